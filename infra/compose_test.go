package infra_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/schedule"
)

// loadCompose loads infra/<file> as `docker compose` would from infra/, its
// variables interpolated from .env.example (never the caller's environment)
// and the given profiles enabled. env_file is not read: .env is the
// operator's, not the repository's.
func loadCompose(t *testing.T, file string, profiles ...string) *types.Project {
	t.Helper()
	return loadComposeEnv(t, file, nil, profiles...)
}

// loadComposeEnv is loadCompose with env (NAME=value) set as the shell's
// environment, which wins over .env.example as with docker compose.
func loadComposeEnv(t *testing.T, file string, env []string, profiles ...string) *types.Project {
	t.Helper()
	dir := filepath.Join(root(t), "infra")
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, file)},
		cli.WithWorkingDirectory(dir),
		cli.WithEnv(env),
		cli.WithEnvFiles(filepath.Join(dir, ".env.example")),
		cli.WithDotEnv,
		cli.WithProfiles(profiles),
		cli.WithoutEnvironmentResolution,
	)
	require.NoError(t, err)
	p, err := opts.LoadProject(context.Background())
	require.NoError(t, err, "%s does not load", file)
	return p
}

func names(p *types.Project) []string {
	out := p.ServiceNames()
	slices.Sort(out)
	return out
}

func published(s types.ServiceConfig) []string {
	var out []string
	for _, p := range s.Ports {
		out = append(out, p.HostIP+":"+p.Published+"->"+strconv.FormatUint(uint64(p.Target), 10))
	}
	return out
}

func requireDependsOn(t *testing.T, s types.ServiceConfig, on, condition string) {
	t.Helper()
	d, ok := s.DependsOn[on]
	require.Truef(t, ok, "%s depends on %s", s.Name, on)
	require.Equalf(t, condition, d.Condition, "%s waits for %s to be %s", s.Name, on, condition)
}

func TestComposeDev(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "docker-compose.dev.yml")
	require.Equal(t, []string{"api", "db", "migrate", "redis", "s3"}, names(p),
		"the cron sidecar is off unless its profile is asked for")
	_, disabled := p.DisabledServices["cron"]
	require.True(t, disabled, "cron is declared, under a profile")

	db := p.Services["db"]
	require.Contains(t, published(db), "127.0.0.1:5432->5432", "PostgreSQL on localhost:5432")
	require.Equal(t, "postgres", *db.Environment["POSTGRES_USER"])
	require.Equal(t, "postgres", *db.Environment["POSTGRES_PASSWORD"])
	require.NotNil(t, db.HealthCheck, "migrate waits for db to be healthy")
	vol := db.Volumes[0]
	require.Equal(t, types.VolumeTypeVolume, vol.Type, "a named volume, so that down -v resets the database")
	require.Contains(t, p.Volumes, vol.Source)
	require.Equal(t, "/var/lib/postgresql", vol.Target, "postgres:18 keeps PGDATA under /var/lib/postgresql/18")
	require.Contains(t, db.Image, "postgres:18")

	s3 := p.Services["s3"]
	require.Contains(t, strings.Join(s3.Command, " "), "mkdir -p /data/cortexlayer-backups", "the backups' bucket exists")
	require.NotNil(t, p.Services["redis"].HealthCheck)

	migrate := p.Services["migrate"]
	require.Equal(t, types.ShellCommand{"db", "migrate"}, migrate.Command)
	requireDependsOn(t, migrate, "db", types.ServiceConditionHealthy)
	require.NotNil(t, migrate.Build, "built from the repository's Dockerfile")
	require.Equal(t, filepath.Join(root(t)), migrate.Build.Context)

	api := p.Services["api"]
	require.Equal(t, types.ShellCommand{"api"}, api.Command)
	require.Contains(t, published(api), ":8000->8000", "the API on http://localhost:8000")
	requireDependsOn(t, api, "migrate", types.ServiceConditionCompletedSuccessfully)
	require.Contains(t, *api.Environment["DATABASE_URL"], "@db:5432/")
	require.Equal(t, "redis://redis:6379", *api.Environment["REDIS_URL"])
	require.GreaterOrEqual(t, len(*api.Environment["ADMIN_API_KEY"]), 32, "the API refuses a shorter admin key")
	require.NotNil(t, api.Build, "watch rebuilds need a build section")
	require.NotNil(t, api.Develop, "live reload: develop.watch")
	var watched []string
	for _, w := range api.Develop.Watch {
		require.Equal(t, types.WatchActionRebuild, w.Action)
		rel, err := filepath.Rel(root(t), w.Path)
		require.NoError(t, err)
		watched = append(watched, rel)
	}
	require.Subset(t, watched, []string{"cmd", "internal", "jobs", "db", "go.mod"}, "every Go source tree is watched")

	withCron := loadCompose(t, "docker-compose.dev.yml", "cron")
	cron, ok := withCron.Services["cron"]
	require.True(t, ok, "--profile cron starts the sidecar")
	require.Equal(t, []string{"cron"}, cron.Profiles)
	requireCronSidecar(t, cron)
	requireDependsOn(t, cron, "migrate", types.ServiceConditionCompletedSuccessfully)
	require.Equal(t, "http://s3:7070", *cron.Environment["AWS_ENDPOINT_URL_S3"])
	require.True(t, strings.HasPrefix(*cron.Environment["BACKUP_URL"], "s3://cortexlayer-backups/"))
}

// requireCronSidecar checks what both files' cron sidecars share: supercronic
// on the crontab mounted read-only, healthy while the jobs are.
func requireCronSidecar(t *testing.T, cron types.ServiceConfig) {
	t.Helper()
	require.Equal(t, "supercronic", cron.Entrypoint[0])
	require.Equal(t, types.ShellCommand{"/etc/cortexctl/crontab"}, cron.Command)
	require.Len(t, cron.Volumes, 1)
	v := cron.Volumes[0]
	require.Equal(t, types.VolumeTypeBind, v.Type)
	require.Equal(t, filepath.Join(root(t), "crontab", "supercronic.cron"), v.Source)
	require.Equal(t, "/etc/cortexctl/crontab", v.Target)
	require.True(t, v.ReadOnly)
	require.NotNil(t, cron.HealthCheck)
	require.Equal(t, types.HealthCheckTest{"CMD", "cortexctl", "jobs", "status", "--check"}, cron.HealthCheck.Test)
}

func TestComposeProduction(t *testing.T) {
	t.Parallel()
	p := loadCompose(t, "docker-compose.yml")
	require.Equal(t, []string{"api", "cron", "nginx"}, names(p),
		"PostgreSQL and Redis are external (Railway, Upstash): no service of theirs")
	require.Empty(t, p.DisabledServices)

	for _, name := range []string{"api", "cron"} {
		s := p.Services[name]
		require.Equalf(t, "ghcr.io/cortexlayer/cortexctl:latest", s.Image, "%s runs the released image", name)
		require.Nilf(t, s.Build, "%s is never built on the server", name)
		require.Lenf(t, s.EnvFiles, 1, "%s reads its settings from .env", name)
		require.Equal(t, filepath.Join(root(t), "infra", ".env"), s.EnvFiles[0].Path)
		require.True(t, bool(s.EnvFiles[0].Required))
		require.NotContainsf(t, s.Environment, "DATABASE_URL", "%s: secrets only in .env", name)
	}
	for _, s := range p.Services {
		require.Equalf(t, "unless-stopped", s.Restart, "%s restarts", s.Name)
		require.NotNilf(t, s.Logging, "%s logs with rotation", s.Name)
		require.Equal(t, "json-file", s.Logging.Driver)
		require.NotEmpty(t, s.Logging.Options["max-size"])
		require.NotEmpty(t, s.Logging.Options["max-file"])
		require.NotNilf(t, s.Deploy, "%s has resource limits", s.Name)
		require.NotNil(t, s.Deploy.Resources.Limits)
		require.NotZerof(t, s.Deploy.Resources.Limits.MemoryBytes, "%s memory limit", s.Name)
		require.NotNilf(t, s.HealthCheck, "%s has a health check", s.Name)
	}

	pinned := loadComposeEnv(t, "docker-compose.yml", []string{"CORTEXCTL_VERSION=v1.2.3"})
	for _, name := range []string{"api", "cron"} {
		require.Equalf(t, "ghcr.io/cortexlayer/cortexctl:v1.2.3", pinned.Services[name].Image, "CORTEXCTL_VERSION picks %s's tag", name)
	}

	api := p.Services["api"]
	require.Equal(t, types.ShellCommand{"api"}, api.Command)
	require.Empty(t, api.Ports, "the api is reached through Nginx only")
	require.Contains(t, api.Expose, "8000")
	require.NotNil(t, api.Environment["API_ADDR"])
	require.Equal(t, ":8000", *api.Environment["API_ADDR"], "the port of Nginx's upstream and the healthcheck")
	// The api believes forwarded addresses from Nginx's network only.
	subnet := p.Networks["backend"].Ipam.Config[0].Subnet
	require.Equal(t, subnet, *api.Environment["API_TRUSTED_PROXIES"])
	require.Contains(t, api.Networks, "backend")
	require.NotNil(t, api.StopGracePeriod)
	require.Greater(t, time.Duration(*api.StopGracePeriod), 25*time.Second, "longer than the API's 25 s shutdown timeout")

	cron := p.Services["cron"]
	require.Empty(t, cron.Profiles, "production runs the jobs")
	requireCronSidecar(t, cron)

	nginx := p.Services["nginx"]
	require.ElementsMatch(t, []string{":80->80", ":443->443", "127.0.0.1:8080->8080"}, published(nginx),
		"80 and 443 public; the internal server on the host's loopback only")
	requireDependsOn(t, nginx, "api", types.ServiceConditionHealthy)
	require.True(t, nginx.DependsOn["api"].Restart, "Nginx resolves api:8000 at start: restarted with it")
	var mounts []string
	for _, v := range nginx.Volumes {
		require.Truef(t, v.ReadOnly, "%s mounted read-only", v.Target)
		mounts = append(mounts, v.Target)
	}
	require.Contains(t, mounts, "/etc/nginx/nginx.conf")
	require.Contains(t, mounts, "/etc/nginx/certs")
}

// TestEnvExample checks that .env.example lists every variable cortexctl
// reads (cmd/cmdutil/env.go) and holds no secret.
func TestEnvExample(t *testing.T) {
	t.Parallel()
	consts := regexp.MustCompile(`(?m)^\s*Env\w+\s*=\s*"([A-Z0-9_]+)"`).FindAllStringSubmatch(readFile(t, "cmd/cmdutil/env.go"), -1)
	require.NotEmpty(t, consts)
	example := readFile(t, "infra/.env.example")
	listed := map[string]string{}
	for _, line := range strings.Split(example, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if k, v, ok := strings.Cut(line, "="); ok && regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(k) {
			listed[k] = v
		}
	}
	// Set by docker-compose.yml itself, tied to its network and Nginx.
	inCompose := []string{"API_ADDR", "API_TRUSTED_PROXIES"}
	for _, c := range consts {
		if strings.HasSuffix(c[1], "_") {
			// A prefix (CORTEXCTL_PING_URL_): one variable per scheduled job.
			for _, job := range schedule.Jobs() {
				name := c[1] + strings.ToUpper(strings.ReplaceAll(job, "-", "_"))
				require.Containsf(t, listed, name, ".env.example lists %s (cmd/cmdutil/env.go)", name)
			}
			continue
		}
		if slices.Contains(inCompose, c[1]) {
			require.NotContains(t, listed, c[1])
			continue
		}
		require.Containsf(t, listed, c[1], ".env.example lists %s (cmd/cmdutil/env.go)", c[1])
	}
	for _, k := range []string{"CORTEXCTL_VERSION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		require.Contains(t, listed, k)
	}
	for _, k := range []string{"STRIPE_API_KEY", "STRIPE_WEBHOOK_SECRET", "ADMIN_API_KEY", "AWS_SECRET_ACCESS_KEY", "REDIS_URL"} {
		require.Emptyf(t, listed[k], "%s: no secret in .env.example", k)
	}
	require.NotRegexp(t, `sk_live_\w|whsec_\w|rediss?://[^:\s]*:[^@\s]+@`, example, "no key or password in .env.example")
	_, err := os.Stat(filepath.Join(root(t), "infra", ".env"))
	if err == nil {
		require.Contains(t, readFile(t, ".gitignore"), "infra/.env", "a real .env is never committed")
	}
}
