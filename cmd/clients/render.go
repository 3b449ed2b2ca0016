package clients

import (
	"time"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
)

// deref is *s, or def when s is nil.
func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// instant is cmdutil.Instant of t, or def when t is nil.
func instant(t *time.Time, def string) string {
	if t == nil {
		return def
	}
	return cmdutil.Instant(*t)
}

// exemption describes a hard-cap exemption: -, or its end and whether it
// still holds.
func exemption(until *time.Time, holds bool) string {
	switch {
	case until == nil:
		return "-"
	case holds:
		return cmdutil.Instant(*until)
	}
	return cmdutil.Instant(*until) + " (ended)"
}
