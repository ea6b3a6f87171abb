package formation

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkStores: the bucket, tables, log group and cluster the outputs name exist with the agreed keys.
func checkStores(ctx context.Context, t *testing.T, cfg aws.Config, outputs map[string]string) {
	t.Helper()
	_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(ctx,
		&s3.HeadBucketInput{Bucket: aws.String(outputs[OutputObjectBucket])})
	assert.NoError(t, err, "object bucket %s", outputs[OutputObjectBucket])
	db := dynamodb.NewFromConfig(cfg)
	tables := map[string]string{OutputAppsTable: "name", OutputBuildsTable: "id", OutputReleasesTable: "id"}
	for output, hash := range tables {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(outputs[output])})
		if !assert.NoError(t, err, "%s %s: %v", output, outputs[output], err) {
			continue
		}
		table := out.Table
		if assert.Len(t, table.KeySchema, 1, "%s key schema = %+v, want hash %s", output, table.KeySchema, hash) {
			assert.Equal(t, hash, aws.ToString(table.KeySchema[0].AttributeName), "%s key schema = %+v, want hash %s", output, table.KeySchema, hash)
		}
		if assert.NotNil(t, table.BillingModeSummary, "%s billing = %+v, want PAY_PER_REQUEST", output, table.BillingModeSummary) {
			assert.Equal(t, dbtypes.BillingModePayPerRequest, table.BillingModeSummary.BillingMode, "%s billing = %+v, want PAY_PER_REQUEST", output, table.BillingModeSummary)
		}
		if output == OutputAppsTable {
			continue
		}
		if !assert.Len(t, table.GlobalSecondaryIndexes, 1, "%s has %d global indexes, want app-created-index", output, len(table.GlobalSecondaryIndexes)) {
			continue
		}
		gsi := table.GlobalSecondaryIndexes[0]
		keys := map[dbtypes.KeyType]string{}
		for _, k := range gsi.KeySchema {
			keys[k.KeyType] = aws.ToString(k.AttributeName)
		}
		assert.EqualValues(t, "app-created-index", aws.ToString(gsi.IndexName), "%s index = %s %v %+v", output, aws.ToString(gsi.IndexName), keys, gsi.Projection)
		assert.EqualValues(t, "app", keys[dbtypes.KeyTypeHash], "%s index = %s %v %+v", output, aws.ToString(gsi.IndexName), keys, gsi.Projection)
		assert.EqualValues(t, "created", keys[dbtypes.KeyTypeRange], "%s index = %s %v %+v", output, aws.ToString(gsi.IndexName), keys, gsi.Projection)
		if assert.NotNil(t, gsi.Projection, "%s index = %s %v %+v", output, aws.ToString(gsi.IndexName), keys, gsi.Projection) {
			assert.Equal(t, dbtypes.ProjectionTypeAll, gsi.Projection.ProjectionType, "%s index = %s %v %+v", output, aws.ToString(gsi.IndexName), keys, gsi.Projection)
		}
	}
	groups, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{
		LogGroupNamePrefix: aws.String(outputs[OutputBuildLogGroup]),
	})
	if assert.NoError(t, err, "build log group %s: %v %v", outputs[OutputBuildLogGroup], groups, err) {
		assert.Len(t, groups.LogGroups, 1, "build log group %s: %v %v", outputs[OutputBuildLogGroup], groups, err)
	}
	clusters, err := ecs.NewFromConfig(cfg).DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{outputs[OutputBuildCluster]}})
	if assert.NoError(t, err, "build cluster %s: %v %v", outputs[OutputBuildCluster], clusters, err) {
		if assert.Len(t, clusters.Clusters, 1, "build cluster %s: %v %v", outputs[OutputBuildCluster], clusters, err) {
			assert.EqualValues(t, "ACTIVE", aws.ToString(clusters.Clusters[0].Status), "build cluster %s: %v %v", outputs[OutputBuildCluster], clusters, err)
		}
	}
}

// checkFargateTask: the Fargate build task is a Fargate task with the stack's
// cpu and memory and no volumes or mounts, and the stack made no file system:
// kaniko's cache lives in the registry.
func checkFargateTask(ctx context.Context, t *testing.T, cfg aws.Config, outputs map[string]string) {
	t.Helper()
	fs, err := efs.NewFromConfig(cfg).DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{})
	if assert.NoError(t, err, "DescribeFileSystems") {
		var ids []string
		for _, f := range fs.FileSystems {
			ids = append(ids, aws.ToString(f.FileSystemId))
		}
		assert.Empty(t, ids, "the stack made EFS file systems %v", ids)
	}

	out, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(outputs[OutputBuildTaskDefinitionFargate]),
	})
	require.NoError(t, err, "DescribeTaskDefinition")
	def := out.TaskDefinition
	if assert.Len(t, def.RequiresCompatibilities, 1, "fargate task definition: %v %s cpu %s memory %s", def.RequiresCompatibilities, def.NetworkMode, aws.ToString(def.Cpu), aws.ToString(def.Memory)) {
		assert.Equal(t, ecstypes.CompatibilityFargate, def.RequiresCompatibilities[0], "fargate task definition: %v %s cpu %s memory %s", def.RequiresCompatibilities, def.NetworkMode, aws.ToString(def.Cpu), aws.ToString(def.Memory))
		assert.Equal(t, ecstypes.NetworkModeAwsvpc, def.NetworkMode, "fargate task definition: %v %s cpu %s memory %s", def.RequiresCompatibilities, def.NetworkMode, aws.ToString(def.Cpu), aws.ToString(def.Memory))
		assert.EqualValues(t, "1024", aws.ToString(def.Cpu), "fargate task definition: %v %s cpu %s memory %s", def.RequiresCompatibilities, def.NetworkMode, aws.ToString(def.Cpu), aws.ToString(def.Memory))
		assert.EqualValues(t, "2048", aws.ToString(def.Memory), "fargate task definition: %v %s cpu %s memory %s", def.RequiresCompatibilities, def.NetworkMode, aws.ToString(def.Cpu), aws.ToString(def.Memory))
	}
	assert.Empty(t, def.Volumes, "fargate task volumes = %+v, want none", def.Volumes)
	require.NotEmpty(t, def.ContainerDefinitions, "fargate task definition has no containers")
	assert.Empty(t, def.ContainerDefinitions[0].MountPoints, "fargate build container mounts = %+v, want none", def.ContainerDefinitions[0].MountPoints)
}
