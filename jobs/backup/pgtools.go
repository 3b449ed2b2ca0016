package backup

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// Tools are the pg_dump and pg_restore a backup uses: one installation,
// whose major version is at least the server's (an older pg_dump refuses a
// newer server, and backups silently stop).
type Tools struct {
	PgDump, PgRestore string
	Major             int
	Version           string // e.g. "15.20"
}

// toolVersion matches `pg_dump (PostgreSQL) 15.20 (Debian ...)`.
var toolVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// ParseToolVersion reads the major and full version from `pg_dump --version`.
func ParseToolVersion(out string) (major int, version string, ok bool) {
	m := toolVersion.FindStringSubmatch(out)
	if m == nil {
		return 0, "", false
	}
	major, _ = strconv.Atoi(m[1])
	version = m[1]
	if m[2] != "" {
		version += "." + m[2]
	}
	return major, version, true
}

// DefaultSearchDirs are where pg_dump is looked for besides PATH: Debian
// and Ubuntu install one directory per major version.
var DefaultSearchDirs = func() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	return dirs
}

// FindTools finds a pg_dump (and the pg_restore beside it) whose major
// version is at least serverMajor, in PATH and dirs; of those that qualify,
// the one of the lowest major (the closest to the server). None is an
// exitcode.Config error naming every version found and the server's.
func FindTools(ctx context.Context, serverMajor int, dirs []string) (Tools, error) {
	var candidates []string
	if p, err := exec.LookPath("pg_dump"); err == nil {
		candidates = append(candidates, p)
	}
	for _, d := range dirs {
		p := filepath.Join(d, "pg_dump")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			candidates = append(candidates, p)
		}
	}
	var found []string
	var best *Tools
	for _, p := range candidates {
		out, err := exec.CommandContext(ctx, p, "--version").Output()
		if err != nil {
			continue
		}
		major, version, ok := ParseToolVersion(string(out))
		if !ok {
			continue
		}
		found = append(found, fmt.Sprintf("%s (%s)", version, p))
		restore := filepath.Join(filepath.Dir(p), "pg_restore")
		if _, err := os.Stat(restore); err != nil {
			continue
		}
		if major >= serverMajor && (best == nil || major < best.Major) {
			best = &Tools{PgDump: p, PgRestore: restore, Major: major, Version: version}
		}
	}
	if best != nil {
		return *best, nil
	}
	slices.Sort(found)
	have := "none"
	if len(found) > 0 {
		have = strings.Join(slices.Compact(found), ", ")
	}
	return Tools{}, exitcode.Errorf(exitcode.Config,
		"no pg_dump of major version %d or newer (the server's): found %s; install postgresql-client-%d (or newer), looked in PATH and %s",
		serverMajor, have, serverMajor, strings.Join(dirs, ", "))
}
