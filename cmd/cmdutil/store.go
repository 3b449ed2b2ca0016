package cmdutil

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
)

// StoreFlags say where backups live; the backup commands and doctor declare them.
type StoreFlags struct {
	URL       string
	Endpoint  string
	Region    string
	PathStyle bool
	cmd       *cobra.Command
}

// Bind declares --to, --s3-endpoint, --s3-region and --s3-path-style.
func (s *StoreFlags) Bind(cmd *cobra.Command) {
	s.cmd = cmd
	fl := cmd.Flags()
	fl.StringVar(&s.URL, "to", "", "where backups live: s3://bucket/prefix or file:///dir (env "+EnvBackupURL+")")
	fl.StringVar(&s.Endpoint, "s3-endpoint", "", "S3-compatible endpoint for R2, MinIO and the like, e.g. https://<account>.r2.cloudflarestorage.com (env "+EnvS3Endpoint+"; default AWS)")
	fl.StringVar(&s.Region, "s3-region", "", "S3 region (env "+EnvAWSRegion+"; R2: auto)")
	fl.BoolVar(&s.PathStyle, "s3-path-style", true, "path-style addressing (bucket in the path) when --s3-endpoint is set: MinIO needs it")
}

// Apply applies the environment (a flag wins over its variable).
func (s *StoreFlags) Apply(f *Factory) {
	fl := s.cmd.Flags()
	s.URL = strings.TrimSpace(EnvOr(s.URL, fl.Changed("to"), f.Env, EnvBackupURL, ""))
	s.Endpoint = EnvOr(s.Endpoint, fl.Changed("s3-endpoint"), f.Env, EnvS3Endpoint, "")
	s.Region = EnvOr(s.Region, fl.Changed("s3-region"), f.Env, EnvAWSRegion, "")
}

// Resolve applies the environment and refuses a missing destination.
func (s *StoreFlags) Resolve(f *Factory) error {
	s.Apply(f)
	if s.URL == "" {
		return exitcode.Errorf(exitcode.Config,
			"no backup destination: set %s or --to, as s3://bucket/prefix (AWS S3, R2, MinIO; credentials from the AWS default chain) or file:///var/backups/cortexctl", EnvBackupURL)
	}
	return nil
}

// Options are the store's options as the flags and environment say.
func (s *StoreFlags) Options() objstore.Options {
	return objstore.Options{Endpoint: s.Endpoint, Region: s.Region, PathStyle: s.PathStyle && s.Endpoint != ""}
}

// Open opens the store.
func (s *StoreFlags) Open(ctx context.Context) (objstore.Store, error) {
	return objstore.Open(ctx, s.URL, s.Options())
}
