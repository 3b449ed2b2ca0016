package infra_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// section returns the text of a markdown section: from its heading to the
// next heading of the same or a higher level.
func section(t *testing.T, doc, heading string) string {
	t.Helper()
	level := strings.Count(strings.Fields(heading)[0], "#")
	start := strings.Index(doc, "\n"+heading+"\n")
	require.GreaterOrEqualf(t, start, 0, "no section %q", heading)
	rest := doc[start+len(heading)+2:]
	next := regexp.MustCompile(fmt.Sprintf(`(?m)^#{1,%d} `, level)).FindStringIndex(rest)
	if next == nil {
		return rest
	}
	return rest[:next[0]]
}

// The commands of the infrastructure README that operators know, for both
// configurations, run from infra/. (The old README's bare `docker compose
// logs -f` for development read the production file: the development file is
// always named.)
var (
	devCommands = []string{
		"cd infra",
		"docker compose -f docker-compose.dev.yml up --build -d",
		"docker compose -f docker-compose.dev.yml down",
		"docker compose -f docker-compose.dev.yml down -v",
		"docker compose -f docker-compose.dev.yml logs -f",
	}
	prodCommands = []string{
		"cd infra",
		"docker compose run --rm api db migrate",
		"docker compose up -d",
		"docker compose down",
		"docker compose logs -f",
	}
)

func TestDocsShowTheCommands(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	docker := section(t, readme, "## Run it with Docker (deployment)")
	deploy := section(t, readFile(t, "docs/operations.md"), "## Deploy")
	require.Contains(t, docker, "docs/operations.md#deploy")
	for _, doc := range []struct{ name, text string }{{"README.md", docker}, {"docs/operations.md", deploy}} {
		for _, c := range append(devCommands, prodCommands...) {
			require.Containsf(t, doc.text, c, "%s shows %q", doc.name, c)
		}
	}
	for _, want := range []string{"--profile cron", ".env.example", "origin.pem", "Full (strict)", "127.0.0.1:8080", "jobs status --check", "PG_MAJOR"} {
		require.Containsf(t, deploy, want, "docs/operations.md#deploy explains %s", want)
	}

	// A fresh machine still needs exactly two commands.
	setup := section(t, readme, "## Set up on a fresh machine")
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(setup, -1)
	var cmds []string
	for _, b := range blocks {
		for _, l := range strings.Split(strings.TrimSpace(b[1]), "\n") {
			cmds = append(cmds, strings.TrimSpace(l))
		}
	}
	require.Equal(t, []string{"make demo", "make test"}, cmds, "the set-up section's commands")
	require.NotContains(t, setup, "docker", "Docker is for deployment, not the set-up")
}
