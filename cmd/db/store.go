package db

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
)

// StoreFlags say where backups live; every backup command declares them.
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
	fl.StringVar(&s.URL, "to", "", "where backups live: s3://bucket/prefix or file:///dir (env "+cmdutil.EnvBackupURL+")")
	fl.StringVar(&s.Endpoint, "s3-endpoint", "", "S3-compatible endpoint for R2, MinIO and the like, e.g. https://<account>.r2.cloudflarestorage.com (env "+cmdutil.EnvS3Endpoint+"; default AWS)")
	fl.StringVar(&s.Region, "s3-region", "", "S3 region (env "+cmdutil.EnvAWSRegion+"; R2: auto)")
	fl.BoolVar(&s.PathStyle, "s3-path-style", true, "path-style addressing (bucket in the path) when --s3-endpoint is set: MinIO needs it")
}

// Resolve applies the environment and refuses a missing destination.
func (s *StoreFlags) Resolve(f *cmdutil.Factory) error {
	fl := s.cmd.Flags()
	s.URL = cmdutil.EnvOr(s.URL, fl.Changed("to"), f.Env, cmdutil.EnvBackupURL, "")
	s.Endpoint = cmdutil.EnvOr(s.Endpoint, fl.Changed("s3-endpoint"), f.Env, cmdutil.EnvS3Endpoint, "")
	s.Region = cmdutil.EnvOr(s.Region, fl.Changed("s3-region"), f.Env, cmdutil.EnvAWSRegion, "")
	if strings.TrimSpace(s.URL) == "" {
		return exitcode.Errorf(exitcode.Config,
			"no backup destination: set %s or --to, as s3://bucket/prefix (AWS S3, R2, MinIO; credentials from the AWS default chain) or file:///var/backups/cortexctl", cmdutil.EnvBackupURL)
	}
	return nil
}

// Open opens the store; it parses and checks settings but does not dial.
func (s *StoreFlags) Open(ctx context.Context) (objstore.Store, error) {
	return objstore.Open(ctx, s.URL, objstore.Options{Endpoint: s.Endpoint, Region: s.Region, PathStyle: s.PathStyle && s.Endpoint != ""})
}
