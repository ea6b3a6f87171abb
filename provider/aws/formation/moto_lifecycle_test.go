package formation

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convox/rack/internal/testenv"
)

// A stack named with capitals creates (valid, lower-cased repository names),
// publishes the API's log group and update role, and deletes: the disposable
// resources go (cache repository, log groups), the rack's records stay as
// their DeletionPolicy says, and the app repositories (the API's) stay too.
func TestMotoStackLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts moto_server")
	}
	m := testenv.StartMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := m.AWSConfig(t)
	outputs := deploy(ctx, t, m, "ConvoxProd", map[string]string{"BuildCache": "Yes"})

	ecrClient := ecr.NewFromConfig(cfg)
	require.NotNil(t, describeRepository(ctx, t, ecrClient, "convoxprod-build-cache"), "no lower-cased cache repository")
	assert.Equal(t, "convoxprod/", outputs[OutputAppRepositoryPrefix])
	_, err := ecrClient.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: aws.String(outputs[OutputAppRepositoryPrefix] + "web")})
	require.NoError(t, err, "an app repository under the prefix is a valid name")

	logs := cloudwatchlogs.NewFromConfig(cfg)
	for _, name := range []string{outputs["RackLogGroup"], outputs[OutputBuildLogGroup]} {
		require.NotEmpty(t, name, "outputs %v", outputs)
		assert.True(t, logGroupExists(ctx, t, logs, name), "log group %s", name)
	}
	role := outputs["StackUpdateRole"]
	require.NotEmpty(t, role, "no StackUpdateRole output")
	assert.Contains(t, role, ":role/", "StackUpdateRole output %q is not a role ARN", role)

	_, err = cloudformation.NewFromConfig(cfg).DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String("ConvoxProd")})
	require.NoError(t, err)
	deadline := time.Now().Add(time.Minute)
	for describeRepository(ctx, t, ecrClient, "convoxprod-build-cache") != nil || logGroupExists(ctx, t, logs, outputs["RackLogGroup"]) {
		require.False(t, time.Now().After(deadline), "cache repository or API log group still there a minute after DeleteStack")
		time.Sleep(200 * time.Millisecond)
	}
	assert.False(t, logGroupExists(ctx, t, logs, outputs[OutputBuildLogGroup]), "build log group kept")
	ddb := dynamodb.NewFromConfig(cfg)
	for _, table := range []string{outputs[OutputAppsTable], outputs[OutputBuildsTable], outputs[OutputReleasesTable]} {
		_, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		var gone *ddbtypes.ResourceNotFoundException
		assert.False(t, errors.As(err, &gone), "table %s deleted with the stack: DeletionPolicy Retain keeps the rack's records", table)
	}
	assert.NotNil(t, describeRepository(ctx, t, ecrClient, "convoxprod/web"), "app repositories are the API's, not the stack's (docs: tear down)")
}

func logGroupExists(ctx context.Context, t *testing.T, client *cloudwatchlogs.Client, name string) bool {
	t.Helper()
	out, err := client.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(name)})
	require.NoError(t, err)
	for _, g := range out.LogGroups {
		if aws.ToString(g.LogGroupName) == name {
			return true
		}
	}
	return false
}
