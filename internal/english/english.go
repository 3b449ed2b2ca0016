// Package english holds the few rules of English that messages and tables
// share, so that the jobs (which never import the commands) and the
// commands say things the same way.
package english

import (
	"fmt"
	"strings"
)

// Plural is "1 charge", "2 charges", "0 charges"; "2 entries".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if stem, ok := strings.CutSuffix(noun, "y"); ok && stem != "" && !strings.ContainsAny(stem[len(stem)-1:], "aeiou") {
		return fmt.Sprintf("%d %sies", n, stem)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
