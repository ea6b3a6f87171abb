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
)

// checkStores: the bucket, tables, log group and cluster the outputs name exist with the agreed keys.
func checkStores(ctx context.Context, t *testing.T, cfg aws.Config, outputs map[string]string) {
	t.Helper()
	if _, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).HeadBucket(ctx,
		&s3.HeadBucketInput{Bucket: aws.String(outputs[OutputObjectBucket])}); err != nil {
		t.Errorf("object bucket %s: %v", outputs[OutputObjectBucket], err)
	}
	db := dynamodb.NewFromConfig(cfg)
	tables := map[string]string{OutputAppsTable: "name", OutputBuildsTable: "id", OutputReleasesTable: "id"}
	for output, hash := range tables {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(outputs[output])})
		if err != nil {
			t.Errorf("%s %s: %v", output, outputs[output], err)
			continue
		}
		table := out.Table
		if len(table.KeySchema) != 1 || aws.ToString(table.KeySchema[0].AttributeName) != hash {
			t.Errorf("%s key schema = %+v, want hash %s", output, table.KeySchema, hash)
		}
		if table.BillingModeSummary == nil || table.BillingModeSummary.BillingMode != dbtypes.BillingModePayPerRequest {
			t.Errorf("%s billing = %+v, want PAY_PER_REQUEST", output, table.BillingModeSummary)
		}
		if output == OutputAppsTable {
			continue
		}
		if len(table.GlobalSecondaryIndexes) != 1 {
			t.Errorf("%s has %d global indexes, want app-created-index", output, len(table.GlobalSecondaryIndexes))
			continue
		}
		gsi := table.GlobalSecondaryIndexes[0]
		keys := map[dbtypes.KeyType]string{}
		for _, k := range gsi.KeySchema {
			keys[k.KeyType] = aws.ToString(k.AttributeName)
		}
		if aws.ToString(gsi.IndexName) != "app-created-index" || keys[dbtypes.KeyTypeHash] != "app" ||
			keys[dbtypes.KeyTypeRange] != "created" || gsi.Projection == nil || gsi.Projection.ProjectionType != dbtypes.ProjectionTypeAll {
			t.Errorf("%s index = %s %v %+v", output, aws.ToString(gsi.IndexName), keys, gsi.Projection)
		}
	}
	groups, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{
		LogGroupNamePrefix: aws.String(outputs[OutputBuildLogGroup]),
	})
	if err != nil || len(groups.LogGroups) != 1 {
		t.Errorf("build log group %s: %v %v", outputs[OutputBuildLogGroup], groups, err)
	}
	clusters, err := ecs.NewFromConfig(cfg).DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{outputs[OutputBuildCluster]}})
	if err != nil || len(clusters.Clusters) != 1 || aws.ToString(clusters.Clusters[0].Status) != "ACTIVE" {
		t.Errorf("build cluster %s: %v %v", outputs[OutputBuildCluster], clusters, err)
	}
}

// checkFargateCache: an encrypted EFS with a mount target per subnet and an
// access point, mounted by the Fargate build task at kaniko's cache directory.
func checkFargateCache(ctx context.Context, t *testing.T, cfg aws.Config, outputs map[string]string) {
	t.Helper()
	id := outputs[OutputBuildCacheFileSystem]
	client := efs.NewFromConfig(cfg)
	fs, err := client.DescribeFileSystems(ctx, &efs.DescribeFileSystemsInput{FileSystemId: aws.String(id)})
	if err != nil || len(fs.FileSystems) != 1 {
		t.Fatalf("cache file system %q: %v", id, err)
	}
	if !aws.ToBool(fs.FileSystems[0].Encrypted) {
		t.Error("cache file system is not encrypted")
	}
	targets, err := client.DescribeMountTargets(ctx, &efs.DescribeMountTargetsInput{FileSystemId: aws.String(id)})
	if err != nil || len(targets.MountTargets) != 2 {
		t.Errorf("cache mount targets: %v %v", targets, err)
	}
	points, err := client.DescribeAccessPoints(ctx, &efs.DescribeAccessPointsInput{FileSystemId: aws.String(id)})
	if err != nil || len(points.AccessPoints) != 1 {
		t.Errorf("cache access points: %v %v", points, err)
	}

	out, err := ecs.NewFromConfig(cfg).DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(outputs[OutputBuildTaskDefinitionFargate]),
	})
	if err != nil {
		t.Fatalf("DescribeTaskDefinition: %v", err)
	}
	def := out.TaskDefinition
	if len(def.RequiresCompatibilities) != 1 || def.RequiresCompatibilities[0] != ecstypes.CompatibilityFargate ||
		def.NetworkMode != ecstypes.NetworkModeAwsvpc || aws.ToString(def.Cpu) != "1024" || aws.ToString(def.Memory) != "2048" {
		t.Errorf("fargate task definition: %v %s cpu %s memory %s", def.RequiresCompatibilities, def.NetworkMode, aws.ToString(def.Cpu), aws.ToString(def.Memory))
	}
	if len(def.Volumes) != 1 || aws.ToString(def.Volumes[0].Name) != "cache" || def.Volumes[0].EfsVolumeConfiguration == nil {
		t.Fatalf("fargate task volumes = %+v, want the cache volume", def.Volumes)
	}
	volume := def.Volumes[0].EfsVolumeConfiguration
	if aws.ToString(volume.FileSystemId) != id || volume.TransitEncryption != ecstypes.EFSTransitEncryptionEnabled ||
		volume.AuthorizationConfig == nil || volume.AuthorizationConfig.Iam != ecstypes.EFSAuthorizationConfigIAMEnabled ||
		points == nil || len(points.AccessPoints) != 1 ||
		aws.ToString(volume.AuthorizationConfig.AccessPointId) != aws.ToString(points.AccessPoints[0].AccessPointId) {
		t.Errorf("fargate cache volume = %+v (auth %+v), want file system %s through its access point", volume, volume.AuthorizationConfig, id)
	}
	mounts := def.ContainerDefinitions[0].MountPoints
	if len(mounts) != 1 || aws.ToString(mounts[0].ContainerPath) != "/cache" || aws.ToString(mounts[0].SourceVolume) != "cache" {
		t.Errorf("fargate build container mounts = %+v, want cache at /cache", mounts)
	}
}
