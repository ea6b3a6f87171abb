//go:build bench

package bench

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Phases a build's time goes to, as the CLI's time-stamped output shows them.
var phaseOrder = []string{"CLI upload", "builder ready", "source fetched", "cache imported", "unpack", "changed steps", "export and push", "report"}

// phaseMarks switch the current phase: a line matching a phase's pattern
// starts it, and every second until the next switch counts to it. BuildKit's
// (ec2) and kaniko's (fargate) own words.
var phaseMarks = []struct {
	phase string
	re    *regexp.Regexp
}{
	{"builder ready", regexp.MustCompile(`Removing builder|Creating buildx builder|Using buildx builder|refuses privileged|Starting a fresh|Running the build in|#0 building with|Waiting for the builder`)},
	{"source fetched", regexp.MustCompile(`^Fetching source|^Inputs |^Reusing the images`)},
	{"cache imported", regexp.MustCompile(`importing cache manifest|Checking for cached layer|Retrieving image manifest .*cache|Found cached layer`)},
	{"unpack", regexp.MustCompile(`extracting sha256|Unpacking rootfs|Retrieving image manifest|Returning cached image manifest`)},
	{"changed steps", regexp.MustCompile(`^#\d+ \[[^\]]*\d+/\d+\] (RUN|COPY|ADD|WORKDIR)|^(INFO\S* )?(RUN|COPY|ADD|WORKDIR) |Taking snapshot|Running: `)},
	{"export and push", regexp.MustCompile(`exporting to image|exporting cache|pushing layers|Pushing image to|Pushed |Pushing layer`)},
	{"report", regexp.MustCompile(`^Service \S+:|^Build: `)},
}

// phaseClock reads CLI output line by line as it arrives and adds up how
// long each phase lasted; the first phase, until `Starting build`, is the
// CLI's packaging and upload.
type phaseClock struct {
	start   time.Time
	current string
	since   time.Time
	totals  map[string]float64
}

func newPhaseClock(start time.Time) *phaseClock {
	return &phaseClock{start: start, current: "CLI upload", since: start, totals: map[string]float64{}}
}

// read consumes r to its end, timing each line on arrival.
func (p *phaseClock) read(r io.Reader, echo io.Writer) {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64*1024), 1<<20)
	for s.Scan() {
		line := s.Text()
		now := time.Now()
		if echo != nil { // time-stamped, for BENCH_VERBOSE
			fmt.Fprintf(echo, "%7.2f %s\n", now.Sub(p.start).Seconds(), line)
		}
		next := p.current
		if p.current == "CLI upload" {
			if regexp.MustCompile(`^Starting build`).MatchString(line) {
				next = "builder ready"
			}
		} else {
			for _, m := range phaseMarks {
				if m.re.MatchString(line) {
					next = m.phase
					break
				}
			}
		}
		if next != p.current {
			p.totals[p.current] += now.Sub(p.since).Seconds()
			p.current, p.since = next, now
		}
	}
}

// done closes the last phase at end and returns the totals.
func (p *phaseClock) done(end time.Time) map[string]float64 {
	p.totals[p.current] += end.Sub(p.since).Seconds()
	return p.totals
}
