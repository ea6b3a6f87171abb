package cli

import "time"

// Tests wait on in-memory racks: poll fast.
func init() { pollInterval = 10 * time.Millisecond }
