package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSampleStats(t *testing.T) {
	tests := []struct {
		seconds          []float64
		median, min, max float64
	}{
		{[]float64{3, 1, 2}, 2, 1, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4},
		{[]float64{5}, 5, 5, 5},
		{nil, 0, 0, 0},
	}
	for _, tt := range tests {
		s := Sample{Seconds: tt.seconds}
		assert.Equal(t, tt.median, s.Median(), "median of %v", tt.seconds)
		assert.Equal(t, tt.min, s.Min(), "min of %v", tt.seconds)
		assert.Equal(t, tt.max, s.Max(), "max of %v", tt.seconds)
	}
}

func TestRatiosAndTable(t *testing.T) {
	cold := &Sample{Method: "ec2", App: "a", Scenario: "cold"}
	warm := &Sample{Method: "ec2", App: "a", Scenario: "warm"}
	for i := 0; i < 3; i++ {
		cold.Add(20 * time.Second)
		warm.Add(400 * time.Millisecond)
	}
	r := NewResults("test", 3, []*Sample{cold, warm})
	r.AddRatio("ec2 warm/cold", Key("ec2", "a", "warm"), Key("ec2", "a", "cold"), 0.03)
	r.AddRatio("missing", Key("x", "y", "z"), Key("x", "y", "w"), 1)
	require.Len(t, r.Ratios, 2)
	got := r.Ratios[0]
	assert.Equal(t, 0.02, got.Value, "warm/cold = %+v", got)
	assert.True(t, got.Met, "warm/cold = %+v, want met", got)
	assert.False(t, r.Ratios[1].Met, "a ratio over a missing scenario must not count as met")
	var buf bytes.Buffer
	r.WriteTable(&buf)
	for _, want := range []string{"ec2 warm/cold", "20.00s", "0.40s", "NO"} {
		assert.Contains(t, buf.String(), want, "table lacks %q", want)
	}
}
