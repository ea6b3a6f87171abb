package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
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
		if s.Median() != tt.median || s.Min() != tt.min || s.Max() != tt.max {
			t.Errorf("%v: got median %v min %v max %v, want %v %v %v", tt.seconds, s.Median(), s.Min(), s.Max(), tt.median, tt.min, tt.max)
		}
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
	if got := r.Ratios[0]; got.Value != 0.02 || !got.Met {
		t.Errorf("warm/cold = %+v, want 0.02 met", got)
	}
	if r.Ratios[1].Met {
		t.Error("a ratio over a missing scenario must not count as met")
	}
	var buf bytes.Buffer
	r.WriteTable(&buf)
	for _, want := range []string{"ec2 warm/cold", "20.00s", "0.40s", "NO"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}
