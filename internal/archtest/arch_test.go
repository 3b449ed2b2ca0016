// Package archtest holds the test that keeps docs/architecture.md true: it
// reads the imports of every non-test Go file in the module and checks the
// rules written there.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/cortexlayer/cortexctl"

// imports maps each package directory (relative to the module root) to the
// imports of its non-test files.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "run from internal/archtest")
	out := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if !slices.Contains(out[rel], p) {
				out[rel] = append(out[rel], p)
			}
		}
		if _, ok := out[rel]; !ok {
			out[rel] = nil
		}
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, out, "cmd/cortexctl", "the walk found the module's packages")
	return out
}

func internal(p string) (string, bool) {
	if p == module {
		return ".", true
	}
	return strings.CutPrefix(p, module+"/")
}

func stdlib(p string) bool { return !strings.Contains(strings.SplitN(p, "/", 2)[0], ".") }

// isTestHelper reports whether a package exists to help tests.
func isTestHelper(dir string) bool {
	base := filepath.Base(dir)
	return strings.HasSuffix(base, "test") || base == "fixture" || base == "testenv"
}

func TestArchitecture(t *testing.T) {
	t.Parallel()
	pkgs := imports(t)
	under := func(dir, prefix string) bool { return dir == prefix || strings.HasPrefix(dir, prefix+"/") }
	nouns := []string{}
	for dir := range pkgs {
		if under(dir, "cmd") && dir != "cmd/cortexctl" && dir != "cmd/root" && !under(dir, "cmd/cmdutil") {
			nouns = append(nouns, dir)
		}
	}
	require.NotEmpty(t, nouns)

	for dir, imps := range pkgs {
		for _, imp := range imps {
			own, isOwn := internal(imp)
			switch {
			case strings.HasPrefix(imp, "github.com/spf13/cobra"):
				require.Truef(t, under(dir, "cmd"), "%s imports cobra: only cmd/ may", dir)
			case strings.HasPrefix(imp, "github.com/stripe/stripe-go"):
				require.Truef(t, under(dir, "internal/stripeclient"), "%s imports stripe-go: only the Stripe adapter may", dir)
			case strings.HasPrefix(imp, "github.com/aws/"):
				require.Truef(t, under(dir, "internal/objstore"), "%s imports the AWS SDK: only the object store adapter may", dir)
			case strings.HasPrefix(imp, "github.com/redis/go-redis"):
				require.Truef(t, under(dir, "internal/ratelimit"), "%s imports go-redis: only the rate limiter may", dir)
			case strings.HasPrefix(imp, "github.com/jackc/pgx"):
				require.Truef(t, under(dir, "db") || under(dir, "jobs"), "%s imports pgx: only db/ and jobs/ may", dir)
			}
			if !isOwn {
				continue
			}
			require.Falsef(t, under(own, "cmd") && !under(dir, "cmd"), "%s imports %s: nothing outside cmd/ imports a command", dir, own)
			require.Falsef(t, isTestHelper(own) && !isTestHelper(dir), "%s imports the test helper %s", dir, own)
			require.Falsef(t, under(dir, "db") && under(own, "jobs"), "%s imports %s: db stores, jobs decide", dir, own)
			if under(dir, "internal/api") {
				// The API's handlers call the stores, and read job_runs
				// through the runner; they never run a job.
				require.Falsef(t, under(own, "jobs") && own != "jobs/runner",
					"%s imports %s: the API reads job_runs through jobs/runner and runs no job", dir, own)
			} else {
				require.Falsef(t, under(dir, "internal") && (under(own, "jobs") || under(own, "db")),
					"%s imports %s: internal/ seams know nothing of jobs or the schema", dir, own)
			}
			for _, noun := range nouns {
				require.Falsef(t, under(dir, "cmd") && dir != "cmd/root" && !under(dir, noun) && under(own, noun),
					"%s imports %s: a command package imports cmdutil, never another noun", dir, own)
			}
			if under(dir, "jobs") && !under(dir, "jobs/runner") && under(own, "jobs") {
				require.Equalf(t, "jobs/runner", own, "%s imports %s: a job imports the runner, never another job", dir, own)
			}
		}
	}

	for _, dir := range []string{"internal/exitcode", "internal/billing", "internal/apikey", "internal/schedule", "internal/deadman"} {
		for _, imp := range pkgs[dir] {
			require.Truef(t, stdlib(imp), "%s imports %s: it uses the standard library only", dir, imp)
		}
	}
	require.ElementsMatch(t, []string{"cmd/cmdutil", "cmd/root", "internal/exitcode"},
		ownImports(pkgs["cmd/cortexctl"]), "main maps signals and errors to exit codes, and little else")
}

func ownImports(imps []string) []string {
	var out []string
	for _, imp := range imps {
		if own, ok := internal(imp); ok {
			out = append(out, own)
		}
	}
	return out
}
