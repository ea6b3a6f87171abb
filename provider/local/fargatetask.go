package local

import (
	"fmt"
	"os"

	"github.com/convox/rack/provider/aws/formation"
	"github.com/convox/rack/provider/local/builder"
)

// fargateTask is the container of the template's fargate build task
// definition for this rack's parameters: the local fargate runner starts
// builds from it, so it cannot drift from what Fargate runs. What Fargate
// would not give (privileges, mounts, capabilities beyond SYS_PTRACE) is
// refused rather than simulated.
func (s *buildSet) fargateTask(ps map[string]string) (builder.FargateTask, error) {
	// The images and the password only name things the runner does not use;
	// the template's rules want them set.
	params := map[string]string{"BuildMethod": "fargate", "ImageRegistry": "local", "Password": "local"}
	for _, k := range []string{"BuildCache", "BuildCacheCleanup", "BuildCacheRetentionDays"} {
		if v := ps[k]; v != "" {
			params[k] = v
		}
	}
	c, err := formation.BuildTaskContainer(formation.Stack{Name: s.p.opts.Name, Params: params}, "fargate")
	if err != nil {
		return builder.FargateTask{}, fmt.Errorf("reading the fargate build task from the template: %w", err)
	}
	if c.Privileged || c.MountPoints > 0 || c.Volumes > 0 || !c.RequiresFargate {
		return builder.FargateTask{}, fmt.Errorf("the template's fargate build task is not one Fargate runs as is (privileged %v, %d mount points, %d volumes)",
			c.Privileged, c.MountPoints, c.Volumes)
	}
	return builder.FargateTask{Env: c.Env, Deployed: c.Deployed, CapAdd: c.CapAdd}, nil
}

// caCerts is the host's certificate bundle, which the fargate image carries too.
func caCerts() string {
	const bundle = "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(bundle); err == nil {
		return bundle
	}
	return ""
}
