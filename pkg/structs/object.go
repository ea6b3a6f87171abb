package structs

// Object is a stored blob addressed by an object:// URL.
type Object struct {
	Url string `json:"url"`
}

// ObjectStoreOptions shape how an object is stored.
type ObjectStoreOptions struct {
	Public *bool `param:"public"`
}
