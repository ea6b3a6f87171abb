// Package bench measures cold, warm and --no-cache rebuilds of the reference
// apps against plain buildx and kaniko, side by side in one run (`make bench`).
package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Sample is the durations of one scenario's repeated runs.
type Sample struct {
	Method   string    `json:"method"`
	App      string    `json:"app"`
	Scenario string    `json:"scenario"`
	Seconds  []float64 `json:"seconds"`
}

// Add records one run.
func (s *Sample) Add(d time.Duration) {
	s.Seconds = append(s.Seconds, d.Seconds())
}

// Median is the middle run (mean of the middle two for an even count).
func (s Sample) Median() float64 {
	if len(s.Seconds) == 0 {
		return 0
	}
	v := append([]float64(nil), s.Seconds...)
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Min is the fastest run.
func (s Sample) Min() float64 {
	m := 0.0
	for i, v := range s.Seconds {
		if i == 0 || v < m {
			m = v
		}
	}
	return m
}

// Max is the slowest run.
func (s Sample) Max() float64 {
	m := 0.0
	for _, v := range s.Seconds {
		if v > m {
			m = v
		}
	}
	return m
}

// Ratio is one derived figure, e.g. warm/cold, with the target it must meet.
type Ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Target float64 `json:"target"`
	Met    bool    `json:"met"`
}

// Results is what bench/results.json holds.
type Results struct {
	Machine string `json:"machine"`
	Date    string `json:"date"`
	Runs    int    `json:"runs"`
	// Medians maps "method/app/scenario" to the median seconds.
	Medians map[string]float64 `json:"medians"`
	Ratios  []Ratio            `json:"ratios"`
	Samples []Sample           `json:"samples"`
	// Phases maps a scenario key to the median seconds of each phase of its
	// builds (the end to end rows, from the CLI's time-stamped output).
	Phases map[string]map[string]float64 `json:"phases,omitempty"`
}

// AddPhases records the median of each phase over runs of one scenario.
func (r *Results) AddPhases(key string, runs []map[string]float64) {
	if len(runs) == 0 {
		return
	}
	if r.Phases == nil {
		r.Phases = map[string]map[string]float64{}
	}
	out := map[string]float64{}
	for _, run := range runs {
		for phase := range run {
			s := Sample{}
			for _, other := range runs {
				s.Seconds = append(s.Seconds, other[phase])
			}
			out[phase] = s.Median()
		}
	}
	r.Phases[key] = out
}

// WritePhases prints the phase breakdown, phases in the order given.
func (r *Results) WritePhases(w io.Writer, order []string) {
	if len(r.Phases) == 0 {
		return
	}
	keys := make([]string, 0, len(r.Phases))
	for k := range r.Phases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPHASES (median s)\t"+strings.Join(order, "\t"))
	for _, k := range keys {
		cells := []string{k}
		for _, p := range order {
			cells = append(cells, fmt.Sprintf("%.2f", r.Phases[k][p]))
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	tw.Flush()
}

// Key is the stable name of a scenario in Medians.
func Key(method, app, scenario string) string {
	return method + "/" + app + "/" + scenario
}

// NewResults collects samples and computes each median.
func NewResults(machine string, runs int, samples []*Sample) *Results {
	r := &Results{Machine: machine, Date: time.Now().UTC().Format(time.RFC3339), Runs: runs, Medians: map[string]float64{}}
	for _, s := range samples {
		r.Samples = append(r.Samples, *s)
		r.Medians[Key(s.Method, s.App, s.Scenario)] = s.Median()
	}
	return r
}

// AddRatio records num/den (medians by key) against an upper bound.
func (r *Results) AddRatio(name, num, den string, target float64) {
	n, d := r.Medians[num], r.Medians[den]
	v := 0.0
	if d > 0 {
		v = n / d
	}
	r.Ratios = append(r.Ratios, Ratio{Name: name, Value: v, Target: target, Met: d > 0 && v <= target})
}

// WriteTable prints the scenarios and ratios for a person.
func (r *Results) WriteTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tAPP\tSCENARIO\tMEDIAN\tMIN\tMAX\tRUNS")
	for _, s := range r.Samples {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\t%.2fs\t%.2fs\t%d\n", s.Method, s.App, s.Scenario, s.Median(), s.Min(), s.Max(), len(s.Seconds))
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RATIO\tVALUE\tTARGET\tMET")
	for _, q := range r.Ratios {
		fmt.Fprintf(tw, "%s\t%.3f\t<= %.3f\t%s\n", q.Name, q.Value, q.Target, yesNo(q.Met))
	}
	tw.Flush()
}

// Save writes results.json.
func (r *Results) Save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return strings.ToUpper("no")
}
