package formation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The rack refuses to deploy without the values no default can stand for.
func TestRulesWantImagesAndPassword(t *testing.T) {
	_, err := Resolve(Stack{Name: "convox", Params: map[string]string{}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ImageRegistry is required: run make images")
	assert.Contains(t, err.Error(), "Password is required")
	_, err = Resolve(Stack{Name: "convox", Params: map[string]string{"ImageRegistry": "r.example", "Password": "p"}})
	assert.NoError(t, err)
}

// The rack API runs as a Fargate service behind the load balancer, from the
// pushed image, with the password from the stack's secret; builds get the
// BuildKit image from the same registry. It is reached over TLS only: with a
// certificate an application load balancer terminates HTTPS and speaks HTTPS
// to the API; without one a network load balancer passes TCP through to the
// API, which serves TLS itself with a generated certificate.
func TestRackService(t *testing.T) {
	lbName := map[string]any{"Fn::GetAtt": []any{"RackLoadBalancer", "DNSName"}}
	cases := []struct {
		name     string
		params   map[string]string
		lbType   string
		protocol string
		target   string
		url      any
	}{
		{"tls pass-through", nil, "network", "TCP", "TCP", map[string]any{"Fn::Join": []any{"", []any{"https://", lbName}}}},
		{"https on the load balancer's name", map[string]string{"CertificateArn": listeners[1]["CertificateArn"]}, "application", "HTTPS", "HTTPS",
			map[string]any{"Fn::Join": []any{"", []any{"https://", lbName}}}},
		{"https on a hostname", listeners[2], "application", "HTTPS", "HTTPS", "https://rack.example.com"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := resolve(t, c.params)
			assert.Equal(t, c.lbType, r.Resources["RackLoadBalancer"].Properties["Type"])
			listener := r.Resources["RackListener"].Properties
			assert.Equal(t, "443", jsonText(listener["Port"]))
			assert.Equal(t, c.protocol, listener["Protocol"])
			_, certs := listener["Certificates"]
			assert.Equal(t, c.protocol == "HTTPS", certs, "certificates only on HTTPS")
			assert.Equal(t, c.url, r.Outputs["RackUrl"])
			tg := r.Resources["RackTargetGroup"].Properties
			assert.Equal(t, c.target, tg["Protocol"], "the load balancer reaches the API over TLS")
			assert.Equal(t, "HTTPS", tg["HealthCheckProtocol"])
			assert.Equal(t, "/check", tg["HealthCheckPath"])
			for _, rule := range r.Resources["RackLoadBalancerSecurityGroup"].Properties["SecurityGroupIngress"].([]any) {
				assert.Equal(t, "443", jsonText(rule.(map[string]any)["FromPort"]), "the load balancer listens on 443 only: %v", rule)
			}

			env := environment(t, r, "RackTaskDefinition")
			assert.Equal(t, c.url, env["RACK_ENDPOINT"], "builds call back on RackUrl")
			assert.Equal(t, "aws", env["PROVIDER"])
			assert.Equal(t, "convox", env["RACK_NAME"])
			assert.Equal(t, "0.0.0.0", env["BIND"])
			assert.Equal(t, "self-signed", env["RACK_TLS"], "the API serves TLS on every listener setting")
			container := r.Resources["RackTaskDefinition"].Properties["ContainerDefinitions"].([]any)[0].(map[string]any)
			assert.Equal(t, required["ImageRegistry"]+"/convox-build:api", container["Image"])
			assert.Equal(t, []any{map[string]any{"Name": "RACK_PASSWORD", "ValueFrom": map[string]any{"Ref": "RackPassword"}}}, container["Secrets"])

			service := r.Resources["RackService"].Properties
			assert.Equal(t, "FARGATE", service["LaunchType"])
			deployment := service["DeploymentConfiguration"].(map[string]any)
			assert.Equal(t, map[string]any{"Enable": true, "Rollback": true}, deployment["DeploymentCircuitBreaker"], "an API that cannot start rolls back")
			group := r.Resources["RackTargetGroup"].Properties
			assert.Equal(t, "/check", group["HealthCheckPath"])
			assert.Equal(t, map[string]any{"HttpCode": "200"}, group["Matcher"], "the health check wants /check's 200, not a 401")
			// The API reads its password again from the secret the stack makes.
			assert.Equal(t, r.Resources["RackPassword"].Properties["Name"], env["RACK_PASSWORD_SECRET"])
			for _, name := range []string{"RACK_APPS_TABLE", "RACK_BUILDS_TABLE", "RACK_RELEASES_TABLE", "RACK_OBJECT_BUCKET", "RACK_BUILD_CLUSTER",
				"RACK_BUILD_TASK_DEFINITION_EC2", "RACK_BUILD_TASK_DEFINITION_FARGATE", "RACK_BUILD_LOG_GROUP", "RACK_SUBNETS"} {
				assert.NotEmpty(t, env[name], "the API task is not told %s", name)
			}
			lb := service["LoadBalancers"].([]any)[0].(map[string]any)
			assert.Equal(t, "api", lb["ContainerName"])
			assert.Equal(t, map[string]any{"Ref": "RackTargetGroup"}, lb["TargetGroupArn"])
			assert.Equal(t, required["ImageRegistry"]+"/convox-build:buildkit", environment(t, r, "BuildTaskDefinitionEc2")["BUILDKIT_IMAGE"])
			assert.Equal(t, required["ImageRegistry"]+"/convox-build:buildkit", r.Outputs["BuildKitImage"])
		})
	}
}

// jsonText is a number or string of the resolved template as text.
func jsonText(v any) any {
	if s, ok := scalar(v); ok {
		return s
	}
	return v
}
