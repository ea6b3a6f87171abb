package engine

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlanStages: a split is planned only where the small images give the
// target the same files; otherwise kaniko builds in one step.
func TestPlanStages(t *testing.T) {
	multistage := "ARG BASE=debian\nFROM ${BASE} AS builder\nWORKDIR /build\nCOPY src/ ./src/\nRUN make \\\n && cp out artifact.txt\n\n" +
		"FROM busybox AS development\nCOPY --from=builder /build/artifact.txt /app/\n\n" +
		"FROM busybox\nCOPY --from=builder --chown=1:1 /build/artifact.txt /app/artifact.txt\nCMD [\"cat\"]\n"
	p := planStages([]byte(multistage), "")
	require.NotNil(t, p)
	assert.Equal(t, 2, p.target)
	assert.Equal(t, map[int][]string{0: {"/build/artifact.txt"}}, p.sources)
	assert.Equal(t, "builder", p.targetOf(0))
	assert.Equal(t, "ARG BASE=debian\nFROM reg/cache@sha256:1 AS builder\n"+
		"FROM busybox AS development\nCOPY --from=builder /build/artifact.txt /app/\n"+
		"FROM busybox\nCOPY --from=builder --chown=1:1 /build/artifact.txt /app/artifact.txt\nCMD [\"cat\"]\n",
		string(p.rewrite(map[int]string{0: "reg/cache@sha256:1"})))

	dev := planStages([]byte(multistage), "development")
	require.NotNil(t, dev)
	assert.Equal(t, 1, dev.target)

	json := planStages([]byte("FROM a\nRUN x\nFROM b\nCOPY --from=0 [\"/x y\", \"/z\", \"/dst/\"]\n"), "")
	require.NotNil(t, json)
	assert.Equal(t, map[int][]string{0: {"/x y", "/z"}}, json.sources)
	assert.Equal(t, "0", json.targetOf(0))

	for name, df := range map[string]string{
		"single stage":      "FROM a\nRUN x\n",
		"no copy from":      "FROM a AS b\nRUN x\nFROM c\nCOPY . /\n",
		"target from stage": "FROM a AS b\nRUN x\nFROM b\nCOPY --from=b /x /y\n",
		"wildcard":          "FROM a AS b\nRUN x\nFROM c\nCOPY --from=b /x/*.txt /y/\n",
		"variable":          "FROM a AS b\nARG D\nFROM c\nARG D\nCOPY --from=b /$D /y\n",
		"run mount":         "FROM a AS b\nRUN x\nFROM c\nCOPY --from=b /x /y\nRUN --mount=type=bind,from=b,target=/m ls\n",
		"heredoc":           "FROM a AS b\nRUN x\nFROM c\nCOPY --from=b /x /y\nRUN <<EOF\nls\nEOF\n",
		"unknown copy flag": "FROM a AS b\nRUN x\nFROM c\nCOPY --parents --from=b /x /y\n",
		"only an image":     "FROM a AS b\nRUN x\nFROM c\nCOPY --from=nginx:1 /x /y\n",
		"unknown target":    "FROM a AS b\nRUN x\nFROM c\nCOPY --from=b /x /y\n",
		"escape directive":  "# escape=`\nFROM a AS b\nRUN x\nFROM c\nCOPY --from=b /x /y\n",
	} {
		target := ""
		if name == "unknown target" {
			target = "nope"
		}
		assert.Nil(t, planStages([]byte(df), target), name)
	}
}
