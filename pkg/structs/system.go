package structs

// System describes the rack: its name, provider, status and parameters.
type System struct {
	Name       string            `json:"name"`
	Provider   string            `json:"provider"`
	Region     string            `json:"region"`
	Status     string            `json:"status"`
	Version    string            `json:"version"`
	Parameters map[string]string `json:"parameters"`
	Outputs    map[string]string `json:"outputs"`
}

// SystemUpdateOptions change rack parameters; PUT /system sends Parameters as
// one URL-encoded form value, the way stdsdk encodes a map.
type SystemUpdateOptions struct {
	Parameters map[string]string `param:"parameters"`
}
