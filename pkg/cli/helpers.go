package cli

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/convox/rack/pkg/structs"
	"github.com/convox/stdcli"
)

// pollInterval is how often waits ask the rack again; tests shorten it.
var pollInterval = 2 * time.Second

// hostURL turns CONVOX_HOST and CONVOX_PASSWORD into a rack URL (https unless host names a scheme).
func hostURL(host, password string) string {
	scheme := "https"
	if s, h, ok := strings.Cut(host, "://"); ok {
		scheme, host = s, h
	}
	u := url.URL{Scheme: scheme, User: url.UserPassword("convox", password), Host: host}
	return u.String()
}

// ago says how long ago t was, the way the Convox CLI does ("2 weeks ago").
func ago(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := time.Since(t)
	if d < 0 {
		d = 0
	}
	units := []struct {
		name string
		size time.Duration
	}{
		{"year", 365 * 24 * time.Hour},
		{"month", 30 * 24 * time.Hour},
		{"week", 7 * 24 * time.Hour},
		{"day", 24 * time.Hour},
		{"hour", time.Hour},
		{"minute", time.Minute},
		{"second", time.Second},
	}
	for _, u := range units {
		if n := int(d / u.size); n >= 1 {
			if n == 1 {
				return fmt.Sprintf("1 %s ago", u.name)
			}
			return fmt.Sprintf("%d %ss ago", n, u.name)
		}
	}
	return "now"
}

// elapsed is the time from start to end to the second ("2m46s"), empty while running.
func elapsed(start, end time.Time) string {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return ""
	}
	return end.Sub(start).Truncate(time.Second).String()
}

// waitWhile polls get until it reports a status other than busy, then
// fails if that status is one of failed.
func waitWhile(c *stdcli.Context, what string, get func() (string, error), busy string, failed ...string) error {
	for {
		status, err := get()
		if err != nil {
			return err
		}
		if status != busy {
			for _, f := range failed {
				if status == f {
					return fmt.Errorf("%s failed: status %s", what, status)
				}
			}
			return nil
		}
		select {
		case <-c.Done():
			return c.Err()
		case <-time.After(pollInterval):
		}
	}
}

// follow asks for a log stream that lasts until the build ends, as Convox streams build logs.
func follow() structs.LogsOptions {
	yes := true
	return structs.LogsOptions{Follow: &yes}
}
