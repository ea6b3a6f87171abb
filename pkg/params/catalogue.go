package params

import "github.com/convox/rack/pkg/buildtask"

// Groups of the catalogue, as shown by `convox rack params -g`.
const (
	// GroupBuild holds the parameters that shape how apps are built.
	GroupBuild = "build"
	// GroupRack holds parameters of the rack itself.
	GroupRack = "rack"
)

// yesNo is the value set of the rack's on/off parameters.
var yesNo = []string{"Yes", "No"}

// catalogue is the one list of rack parameters, in display order.
// Template entries must match provider/aws/formation/rack.json.
var catalogue = []Param{
	{
		Name: "BuildCache", Kind: KindEnum, Allowed: yesNo, Default: "No", Group: GroupBuild,
		Description: "Reuse Docker layers across builds through the {rack}-build-cache registry",
		Template:    true, Local: true,
	},
	{
		Name: "BuildCacheCleanup", Kind: KindEnum, Allowed: yesNo, Default: "No", Group: GroupBuild,
		Description: "Expire build cache images older than BuildCacheRetentionDays",
		Template:    true, Local: true,
	},
	{
		Name: "BuildCacheRetentionDays", Kind: KindInt, Min: 1, Max: 365, Default: "30", Group: GroupBuild,
		Description: "Days a build cache image is kept when BuildCacheCleanup is Yes",
		Template:    true, Local: true,
	},
	{
		Name: "BuildMethod", Kind: KindEnum, Allowed: []string{string(buildtask.EC2), string(buildtask.Fargate)}, Default: string(buildtask.EC2), Group: GroupBuild,
		Description: "Build with buildx on an ec2 build host or with kaniko on fargate",
		Template:    true, Local: true,
	},
	{
		Name: "BuildImage", Kind: KindString, Default: "", Group: GroupBuild,
		Description: "Image that runs builds; empty means the default build image",
		Template:    true, Local: true,
	},
	{
		Name: "BuildCpu", Kind: KindInt, Min: 0, Max: 16384, Default: "0", Group: GroupBuild,
		Description: "CPU units reserved for an ec2 build; 0 leaves it unset",
		Template:    true,
	},
	{
		Name: "BuildMemory", Kind: KindInt, Min: 128, Max: 122880, Default: "1024", Group: GroupBuild,
		Description: "Memory in MiB reserved for an ec2 build",
		Template:    true,
	},
	{
		Name: "FargateBuildCpu", Kind: KindEnum, Allowed: []string{"256", "512", "1024", "2048", "4096"}, Default: "1024", Group: GroupBuild,
		Description: "CPU units of a fargate build task",
		Template:    true,
	},
	{
		Name: "FargateBuildMemory", Kind: KindInt, Min: 512, Max: 30720, Default: "2048", Group: GroupBuild,
		Description: "Memory in MiB of a fargate build task",
		Template:    true,
	},
	{
		Name: "BuildEphemeral", Kind: KindEnum, Allowed: yesNo, Default: "No", Group: GroupBuild,
		Description: "Start every ec2 build on a brand-new BuildKit root, as on an ephemeral build host",
		Local:       true,
	},
	{
		Name: "Password", Kind: KindString, Default: "", Group: GroupRack,
		Description: "Password of the rack API",
		Secret:      true, Template: true, Local: true,
	},
	{
		Name: "ImageRegistry", Kind: KindString, Default: "", Group: GroupRack,
		Description: "Registry the rack's images were pushed to by make images (it prints the value): {ImageRegistry}/convox-build:api, :ec2, :fargate and :buildkit",
		Template:    true,
	},
	{
		Name: "CertificateArn", Kind: KindString, Default: "", Group: GroupRack,
		Description: "ACM certificate of the rack API's HTTPS listener (an application load balancer); empty: the API serves TLS itself with a generated certificate behind a TCP pass-through network load balancer",
		Template:    true,
	},
	{
		Name: "RackHostname", Kind: KindString, Default: "", Group: GroupRack,
		Description: "DNS name clients and builds reach the rack API at (the certificate's name); empty means the load balancer's own",
		Template:    true,
	},
}
