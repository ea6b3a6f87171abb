// Package formation holds rack.json, the CloudFormation template of a build
// rack, and evaluates it for given parameter values, so the AWS provider
// deploys one template and tests can see what CloudFormation would make of it.
package formation

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"
)

//go:embed rack.json
var rackJSON []byte

// Template returns rack.json as deployed (a copy, safe to keep).
func Template() []byte {
	return append([]byte(nil), rackJSON...)
}

// Output names the AWS provider reads from the stack.
const (
	OutputBuildCluster               = "BuildCluster"
	OutputBuildTaskDefinitionEc2     = "BuildTaskDefinitionEc2"
	OutputBuildTaskDefinitionFargate = "BuildTaskDefinitionFargate"
	OutputBuildContainerName         = "BuildContainerName"
	OutputBuildCacheRepositoryName   = "BuildCacheRepositoryName"
	OutputBuildCacheRepositoryURI    = "BuildCacheRepositoryUri"
	OutputAppRepositoryPrefix        = "AppRepositoryPrefix"
	OutputObjectBucket               = "ObjectBucket"
	OutputAppsTable                  = "AppsTable"
	OutputBuildsTable                = "BuildsTable"
	OutputReleasesTable              = "ReleasesTable"
	OutputBuildLogGroup              = "BuildLogGroup"
	OutputSubnets                    = "Subnets"
	OutputBuildSecurityGroup         = "BuildSecurityGroup"
	OutputBuildKitImage              = "BuildKitImage"
	OutputRackURL                    = "RackUrl"
	OutputRackService                = "RackService"
)

// Parameter is one parameter declaration of the template.
type Parameter struct {
	Type          string   `json:"Type"`
	Default       *string  `json:"Default"`
	AllowedValues []string `json:"AllowedValues"`
	MinValue      *float64 `json:"MinValue"`
	MaxValue      *float64 `json:"MaxValue"`
	NoEcho        bool     `json:"NoEcho"`
	Description   string   `json:"Description"`
}

// template is the parsed shape of rack.json that evaluation needs.
type template struct {
	Parameters map[string]Parameter        `json:"Parameters"`
	Mappings   map[string]map[string]any   `json:"Mappings"`
	Conditions map[string]any              `json:"Conditions"`
	Rules      map[string]templateRule     `json:"Rules"`
	Resources  map[string]templateResource `json:"Resources"`
	Outputs    map[string]templateOutput   `json:"Outputs"`
}

type templateResource struct {
	Type       string         `json:"Type"`
	Condition  string         `json:"Condition"`
	Properties map[string]any `json:"Properties"`
}

type templateOutput struct {
	Condition string `json:"Condition"`
	Value     any    `json:"Value"`
}

// parsed decodes rack.json once; numbers stay json.Number so "30" and 30 keep their spelling.
var parsed = sync.OnceValues(func() (*template, error) {
	var t template
	if err := decodeJSON(rackJSON, &t); err != nil {
		return nil, fmt.Errorf("rack.json: %w", err)
	}
	return &t, nil
})

// Parameters returns the template's parameter declarations by name.
func Parameters() (map[string]Parameter, error) {
	t, err := parsed()
	if err != nil {
		return nil, err
	}
	out := make(map[string]Parameter, len(t.Parameters))
	for name, p := range t.Parameters {
		out[name] = p
	}
	return out, nil
}

// decodeJSON decodes data into v keeping numbers as json.Number.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}
