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

// checkFargateCache: an encrypted EFS with a mount target per subnet and an
// access point, mounted by the Fargate build task at kaniko's cache directory.
func checkFargateCache(ctx context.Context, t *testing.T, cfg aws.Config, outputs map[string]string) {
	t.Helper()
	id := outputs[OutputBuildCacheFileSystem]
	client := efs.NewFromConfig(cfg)
	fs, err := client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	require.NoError(t, err, "cache file system %q: %v", id, err)
	require.Len(t, fs.FileSystems, 1, "cache file system %q: %v", id, err)
	assert.True(t, aws.ToBool(fs.FileSystems[0].Encrypted), "cache file system is not encrypted")
	targets, err := client.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(id)})
	if assert.NoError(t, err, "cache mount targets: %v %v", targets, err) {
		assert.Len(t, targets.MountTargets, 2, "cache mount targets: %v %v", targets, err)
	}
	points, err := client.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{FileSystemId: aws.String(id)})
	if assert.NoError(t, err, "cache access points: %v %v", points, err) {
		assert.Len(t, points.AccessPoints, 1, "cache access points: %v %v", points, err)
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
	require.Len(t, def.Volumes, 1, "fargate task volumes = %+v, want the cache volume", def.Volumes)
	require.EqualValues(t, "cache", aws.ToString(def.Volumes[0].Name), "fargate task volumes = %+v, want the cache volume", def.Volumes)
	require.NotNil(t, def.Volumes[0].EfsVolumeConfiguration, "fargate task volumes = %+v, want the cache volume", def.Volumes)
	volume := def.Volumes[0].EfsVolumeConfiguration
	assert.Equal(t, id, aws.ToString(volume.FileSystemId), "fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id)
	assert.Equal(t, ecstypes.EFSTransitEncryptionEnabled, volume.TransitEncryption, "fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id)
	if assert.NotNil(t, volume.AuthorizationConfig, "fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id) {
		assert.Equal(t, ecstypes.EFSAuthorizationConfigIAMEnabled, volume.AuthorizationConfig.Iam, "fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id)
		if assert.NotNil(t, points, "fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id) {
			if assert.Len(t, points.AccessPoints, 1, "fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id) {
				assert.Equal(t, aws.ToString(points.AccessPoints[0].AccessPointId), aws.ToString(volume.AuthorizationConfig.AccessPointId), "fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id)
			}
		}
	}
	mounts := def.ContainerDefinitions[0].MountPoints
	if assert.Len(t, mounts, 1, "fargate build container mounts = %+v, want cache at /cache", mounts) {
		assert.EqualValues(t, "/cache", aws.ToString(mounts[0].ContainerPath), "fargate build container mounts = %+v, want cache at /cache", mounts)
		assert.EqualValues(t, "cache", aws.ToString(mounts[0].SourceVolume), "fargate build container mounts = %+v, want cache at /cache", mounts)
	}
}
