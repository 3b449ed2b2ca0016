package cmdutil

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cortexlayer/cortexctl/jobs/runner"
)

// Output formats of results (--output).
const (
	OutputTable = "table"
	OutputJSON  = "json"
)

// WriteJSON writes v as indented JSON.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Table writes aligned columns; the first row is the header. No line ends
// in spaces, whatever the last cells hold.
func Table(w io.Writer, rows [][]string) error {
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		if _, err := fmt.Fprintln(tw, strings.Join(r, "\t")); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for line := range strings.Lines(b.String()) {
		if _, err := io.WriteString(w, strings.TrimRight(line, " \n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Instant formats a time to paste back into --as-of: UTC, full precision.
func Instant(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Money formats minor units of a two-decimal currency: 150 usd → "1.50 USD".
func Money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d %s", sign, cents/100, cents%100, strings.ToUpper(currency))
}

// NonNil turns a nil slice into an empty one, so JSON says [] not null.
func NonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Footer is the last line of a job's table: its status, exit code and error.
func Footer(w io.Writer, rec runner.Record) error {
	code := 0
	if rec.ExitCode != nil {
		code = *rec.ExitCode
	}
	msg := ""
	if rec.Error != nil {
		msg = ": " + *rec.Error
	}
	_, err := fmt.Fprintf(w, "\nstatus: %s (exit %d)%s\n", rec.Status, code, msg)
	return err
}
