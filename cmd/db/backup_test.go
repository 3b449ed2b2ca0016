package db_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/cmd/cmdutil/cmdtest"
	dbcmd "github.com/cortexlayer/cortexctl/cmd/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/jobs/backup"
)

const recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"

var fileStore = map[string]string{cmdutil.EnvBackupURL: "file:///var/backups/cortexctl"}

func TestBackupFlags(t *testing.T) {
	t.Parallel()
	got := cmdtest.Parse(t, dbcmd.NewCmdBackup, fileStore)
	require.Equal(t, backup.DefaultRetain, got.Job.Retain)
	require.Equal(t, backup.DefaultKeepMin, got.Job.KeepMin)
	require.Equal(t, backup.DefaultTimeout, got.Job.Timeout)
	require.False(t, got.Job.DryRun)
	require.Empty(t, got.Job.Recipients)
	require.Equal(t, "file:///var/backups/cortexctl", got.Store.URL)

	got = cmdtest.Parse(t, dbcmd.NewCmdBackup, map[string]string{
		cmdutil.EnvBackupURL: "s3://from-env/x", cmdutil.EnvS3Endpoint: "http://127.0.0.1:7070", cmdutil.EnvAWSRegion: "auto",
		cmdutil.EnvBackupRecipients: recipient + "," + recipient,
	}, "--to", "s3://acme/prod", "--retain", "72h", "--keep-min", "5", "--dry-run", "--timeout", "1h")
	require.Equal(t, "s3://acme/prod", got.Store.URL, "the flag beats BACKUP_URL")
	require.Equal(t, "http://127.0.0.1:7070", got.Store.Endpoint)
	require.Equal(t, "auto", got.Store.Region)
	require.Equal(t, 72*time.Hour, got.Job.Retain)
	require.Equal(t, 5, got.Job.KeepMin)
	require.True(t, got.Job.DryRun)
	require.Equal(t, time.Hour, got.Job.Timeout)
	require.Equal(t, []string{recipient, recipient}, got.Job.Recipients)

	got = cmdtest.Parse(t, dbcmd.NewCmdBackup, map[string]string{cmdutil.EnvBackupURL: "s3://a/b", cmdutil.EnvBackupRecipients: "ignored"},
		"--age-recipient", recipient)
	require.Equal(t, []string{recipient}, got.Job.Recipients, "the flag beats the variable")
}

func TestBackupRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no destination", nil, nil, exitcode.Config, "no backup destination: set BACKUP_URL or --to, as s3://bucket/prefix"},
		{"--to given empty", nil, []string{"--to", ""}, exitcode.Usage, "--to was given but is empty"},
		{"--age-recipient given empty never means unencrypted", map[string]string{cmdutil.EnvBackupURL: "s3://a/b", cmdutil.EnvBackupRecipients: recipient},
			[]string{"--age-recipient", ""}, exitcode.Usage, "--age-recipient was given but is empty"},
		{"retain too short", fileStore, []string{"--retain", "10m"}, exitcode.Usage, "--retain 10m0s is too short"},
		{"keep-min 0", fileStore, []string{"--keep-min", "0"}, exitcode.Usage, "--keep-min 0: keep at least 1 backup"},
		{"bad recipient", map[string]string{cmdutil.EnvBackupURL: "s3://a/b", cmdutil.EnvBackupRecipients: "ssh-rsa AAAA"}, nil, exitcode.Config, "invalid age recipient"},
		{"--as-of is not a backup flag", fileStore, []string{"--as-of", "2026-01-01"}, exitcode.Usage, "unknown flag: --as-of"},
		{"an argument", fileStore, []string{"now"}, exitcode.Usage, `takes no arguments, got "now"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := cmdtest.Refuse(t, dbcmd.NewCmdBackup, tc.env, tc.args...)
			require.Equal(t, tc.code, exitcode.Of(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestVerifyAndRestoreArgs(t *testing.T) {
	t.Parallel()
	v := cmdtest.Parse(t, dbcmd.NewCmdVerify, fileStore)
	require.Equal(t, "latest", v.ID)
	require.False(t, v.Drill)
	v = cmdtest.Parse(t, dbcmd.NewCmdVerify, fileStore, "20261127T020000Z-1a2b3c4d", "--drill", "--identity", "k.txt")
	require.Equal(t, "20261127T020000Z-1a2b3c4d", v.ID)
	require.True(t, v.Drill)
	require.Equal(t, "k.txt", v.Identity)

	r := cmdtest.Parse(t, dbcmd.NewCmdRestore, fileStore, "latest", "--target-url", "postgres://u@h/db", "--clean", "--yes")
	require.Equal(t, "latest", r.ID)
	require.Equal(t, "postgres://u@h/db", r.TargetURL)
	require.True(t, r.Clean)
	require.True(t, r.Yes)
	require.False(t, r.Force)

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"latest"}, "--target-url is required"},
		{"no backup id", []string{"--target-url", "postgres://u@h/db"}, "accepts 1 arg(s)"},
		{"empty backup id", []string{" ", "--target-url", "postgres://u@h/db"}, "the backup id is empty"},
		{"target given empty", []string{"latest", "--target-url", ""}, "--target-url was given but is empty"},
	} {
		err := cmdtest.Refuse(t, dbcmd.NewCmdRestore, fileStore, tc.args...)
		require.Contains(t, err.Error(), tc.want, tc.name)
	}
	err := cmdtest.Refuse(t, dbcmd.NewCmdVerify, nil, "latest")
	require.Equal(t, exitcode.Config, exitcode.Of(err))
}
