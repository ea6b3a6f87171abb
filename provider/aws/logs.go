package aws

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/convox/rack/pkg/structs"
)

// BuildLogs streams a build's output: the stored log object (or text) once the
// build has ended, else its task's CloudWatch stream, followed until the build ends.
func (p *Provider) BuildLogs(app, id string, opts structs.LogsOptions) (io.ReadCloser, error) {
	b, err := p.BuildGet(app, id)
	if err != nil {
		return nil, err
	}
	if b.Terminal() && b.Logs != "" {
		if oapp, key, ok := parseObjectURL(b.Logs); ok {
			return p.ObjectFetch(oapp, key)
		}
		return io.NopCloser(strings.NewReader(b.Logs)), nil
	}
	if b.Process == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	group, stream, err := p.logStream(b.Process)
	if err != nil {
		return nil, err
	}
	follow := opts.Follow != nil && *opts.Follow
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(p.copyLogs(pw, app, id, group, stream, follow)) }()
	return pr, nil
}

// logStream finds the CloudWatch group and stream of a build task from its
// task definition's awslogs settings: {prefix}/{container}/{task id}.
func (p *Provider) logStream(taskArn string) (group, stream string, err error) {
	cluster, container := p.res.BuildCluster, p.res.BuildContainer
	if cluster == "" || container == "" {
		return "", "", errNoResources
	}
	tasks, err := p.ecs.DescribeTasks(p.ctx, &ecs.DescribeTasksInput{Cluster: sdkaws.String(cluster), Tasks: []string{taskArn}})
	if err != nil {
		return "", "", fmt.Errorf("describing build task: %w", err)
	}
	if len(tasks.Tasks) == 0 {
		return "", "", fmt.Errorf("build task %s not found", taskArn)
	}
	def, err := p.ecs.DescribeTaskDefinition(p.ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: tasks.Tasks[0].TaskDefinitionArn})
	if err != nil {
		return "", "", fmt.Errorf("describing build task definition: %w", err)
	}
	group = p.res.BuildLogGroup
	prefix := ""
	for _, c := range def.TaskDefinition.ContainerDefinitions {
		if sdkaws.ToString(c.Name) == container && c.LogConfiguration != nil {
			group = firstOf(c.LogConfiguration.Options["awslogs-group"], group)
			prefix = c.LogConfiguration.Options["awslogs-stream-prefix"]
		}
	}
	if group == "" || prefix == "" {
		return "", "", fmt.Errorf("build container %s has no awslogs group and stream prefix", container)
	}
	taskID := taskArn[strings.LastIndex(taskArn, "/")+1:]
	return group, prefix + "/" + container + "/" + taskID, nil
}

// copyLogs writes the stream's events to w; with follow it keeps polling until the build ends.
func (p *Provider) copyLogs(w io.Writer, app, id, group, stream string, follow bool) error {
	var token *string
	for {
		in := &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: sdkaws.String(group), LogStreamName: sdkaws.String(stream),
			StartFromHead: sdkaws.Bool(true), NextToken: token,
		}
		out, err := p.logs.GetLogEvents(p.ctx, in)
		var absent *logtypes.ResourceNotFoundException
		switch {
		case errors.As(err, &absent):
			// The task has not written yet.
		case err != nil:
			return fmt.Errorf("reading build logs: %w", err)
		default:
			for _, e := range out.Events {
				line := strings.TrimSuffix(sdkaws.ToString(e.Message), "\n")
				if _, err := io.WriteString(w, line+"\n"); err != nil {
					return err
				}
			}
			fresh := sdkaws.ToString(out.NextForwardToken) != sdkaws.ToString(token)
			token = out.NextForwardToken
			if len(out.Events) > 0 && fresh {
				continue
			}
		}
		if !follow {
			return nil
		}
		b, err := p.BuildGet(app, id)
		if err != nil {
			return err
		}
		if b.Terminal() {
			follow = false // one more read for the last lines, then stop
			continue
		}
		select {
		case <-p.ctx.Done():
			return p.ctx.Err()
		case <-time.After(p.pollEvery):
		}
	}
}
