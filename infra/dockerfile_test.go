package infra_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// root is the module's root, from this package's directory.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "go.mod"))
	require.NoError(t, err, "run from infra/")
	return dir
}

func readFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	require.NoError(t, err)
	return string(b)
}

// instruction is one Dockerfile instruction, its continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, ARG, …
	args string
	line int
}

// stage is one FROM and the instructions under it.
type stage struct {
	name, from string
	ins        []instruction
}

// parseDockerfile splits a Dockerfile into stages. It knows what this repo's
// Dockerfile uses: comments, `\` continuations, one instruction per line (no
// heredocs; the test fails on one).
func parseDockerfile(t *testing.T, text string) (global []instruction, stages []stage) {
	t.Helper()
	var cur strings.Builder
	start := 0
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return
		}
		cmd, args, _ := strings.Cut(s, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		require.NotContainsf(t, in.args, "<<", "line %d: a heredoc; teach parseDockerfile about it", in.line)
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			global = append(global, in)
		} else {
			stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
		}
	}
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // a comment, also between continuation lines
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if body, ok := strings.CutSuffix(trimmed, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	return global, stages
}

func (s stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// argDefault returns the default of ARG name among ins, and whether it is declared.
func argDefault(ins []instruction, name string) (string, bool) {
	for _, in := range ins {
		if in.cmd != "ARG" {
			continue
		}
		n, def, _ := strings.Cut(in.args, "=")
		if n == name {
			return def, true
		}
	}
	return "", false
}

func runs(s stage) string {
	var b strings.Builder
	for _, in := range s.all("RUN") {
		b.WriteString(in.args + "\n")
	}
	return b.String()
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	global, stages := parseDockerfile(t, readFile(t, "Dockerfile"))
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage: a build stage and a small runtime stage")
	build, runtime := stages[0], stages[len(stages)-1]
	require.Equal(t, "build", build.name)
	require.Equal(t, "runtime", runtime.name, "the last stage is the image")
	require.Contains(t, build.from, "golang:")
	require.Regexp(t, `^debian:.*-slim$`, strings.ReplaceAll(runtime.from, "${DEBIAN_RELEASE}", "bookworm"))

	t.Run("go version at least go.mod's", func(t *testing.T) {
		goVersion, ok := argDefault(global, "GO_VERSION")
		require.True(t, ok, "ARG GO_VERSION before the first FROM")
		mod := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readFile(t, "go.mod"))
		require.NotNil(t, mod)
		require.GreaterOrEqualf(t, compareVersions(goVersion, mod[1]), 0,
			"GO_VERSION=%s is older than go.mod's go %s", goVersion, mod[1])
	})

	t.Run("static, trimmed, version stamped like the Makefile", func(t *testing.T) {
		var goBuild string
		for _, in := range build.all("RUN") {
			if strings.Contains(in.args, "go build") {
				goBuild = in.args
			}
		}
		require.NotEmpty(t, goBuild, "a RUN with go build in the build stage")
		require.Contains(t, goBuild, "CGO_ENABLED=0")
		require.Contains(t, goBuild, "-trimpath")
		require.Contains(t, goBuild, "./cmd/cortexctl")
		// Every -X of the Makefile's LDFLAGS, from a build argument.
		ldflags := regexp.MustCompile(`(?m)^LDFLAGS\s*=\s*(.*)$`).FindStringSubmatch(readFile(t, "Makefile"))
		require.NotNil(t, ldflags, "the Makefile's LDFLAGS")
		xs := regexp.MustCompile(`-X (main\.\w+)=\$\((\w+)\)`).FindAllStringSubmatch(ldflags[1], -1)
		require.Len(t, xs, 3, "version, commit, date")
		for _, x := range xs {
			require.Containsf(t, goBuild, "-X "+x[1]+"=${"+x[2]+"}", "%s stamped from ARG %s", x[1], x[2])
			_, ok := argDefault(build.ins, x[2])
			require.Truef(t, ok, "ARG %s in the build stage", x[2])
		}
	})

	t.Run("supercronic pinned", func(t *testing.T) {
		v, ok := argDefault(build.ins, "SUPERCRONIC_VERSION")
		require.True(t, ok)
		require.Regexp(t, `^v\d+\.\d+\.\d+$`, v, "a release, not latest")
		require.Contains(t, runs(build), "go install")
		require.Contains(t, runs(build), "github.com/aptible/supercronic@${SUPERCRONIC_VERSION}")
	})

	t.Run("runtime: pg_dump of PG_MAJOR from PGDG, CA certificates", func(t *testing.T) {
		major, ok := argDefault(runtime.ins, "PG_MAJOR")
		require.True(t, ok, "ARG PG_MAJOR in the runtime stage")
		n, err := strconv.Atoi(major)
		require.NoError(t, err)
		// The newest stable major (17 or 18): a pg_dump dumps older servers
		// only, and production's must not be newer.
		require.GreaterOrEqual(t, n, 17)
		r := runs(runtime)
		require.Contains(t, r, "apt.postgresql.org", "PostgreSQL's client from the PGDG repository")
		require.Contains(t, r, `postgresql-client-${PG_MAJOR}`)
		require.Contains(t, r, "ca-certificates")
		require.Contains(t, r, "pg_dump --version", "the build proves pg_dump runs")
		require.Contains(t, r, "rm -rf /var/lib/apt/lists/*", "no apt lists left in the image")
		var path string
		for _, in := range runtime.all("ENV") {
			if strings.Contains(in.args, "PATH=") {
				path = in.args
			}
		}
		require.Contains(t, path, "/usr/lib/postgresql/${PG_MAJOR}/bin", "PG_MAJOR's pg_dump first on PATH")
		var copied string
		for _, in := range runtime.all("COPY") {
			copied += in.args + "\n"
		}
		require.Contains(t, copied, "--from=build")
		require.Contains(t, copied, "/out/cortexctl")
		require.Contains(t, copied, "/out/supercronic")
	})

	t.Run("runs as a non-root user", func(t *testing.T) {
		users := runtime.all("USER")
		require.NotEmpty(t, users, "USER in the runtime stage")
		user, _, _ := strings.Cut(users[len(users)-1].args, ":")
		require.NotContains(t, []string{"root", "0", ""}, user)
	})

	t.Run("entrypoint and healthcheck", func(t *testing.T) {
		eps := runtime.all("ENTRYPOINT")
		require.Len(t, eps, 1)
		var ep []string
		require.NoError(t, json.Unmarshal([]byte(eps[0].args), &ep), "ENTRYPOINT in exec (JSON) form")
		require.Equal(t, []string{"cortexctl"}, ep)
		hcs := runtime.all("HEALTHCHECK")
		require.Len(t, hcs, 1)
		require.Contains(t, hcs[0].args, "http://127.0.0.1:8000/healthz")
		require.Contains(t, joinArgs(runtime, "EXPOSE"), "8000")
	})
}

func joinArgs(s stage, cmd string) string {
	var out []string
	for _, in := range s.all(cmd) {
		out = append(out, in.args)
	}
	return strings.Join(out, "\n")
}

// compareVersions compares dotted versions ("1.26.8" with "1.26.0") number by number.
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

func TestDockerignore(t *testing.T) {
	t.Parallel()
	lines := strings.Split(readFile(t, ".dockerignore"), "\n")
	for _, want := range []string{".git", "bin/", ".dev/", "infra/"} {
		require.Containsf(t, lines, want, ".dockerignore keeps %s out of the build context", want)
	}
	// What the build needs stays in: no pattern may exclude the Go sources
	// or the embedded migrations.
	for _, l := range lines {
		require.NotContainsf(t, []string{"*", "*.go", "go.mod", "go.sum", "db/", "db", "cmd/", "*.sql"}, strings.TrimSpace(l),
			".dockerignore excludes %q, which the build needs", l)
	}
}
