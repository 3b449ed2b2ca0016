package backup_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/jobs/backup"
)

func TestSplitPassword(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, conn, password string }{
		{"", "", ""},
		{"postgres://app:s3cret@db:5432/cortex?sslmode=require&pool_max_conns=20&statement_timeout=1000",
			"postgres://app@db:5432/cortex?sslmode=require", "s3cret"},
		{"postgresql://app@db/cortex?password=s3cret&application_name=x", "postgresql://app@db/cortex?application_name=x", "s3cret"},
		{"postgres://db/cortex", "postgres://db/cortex", ""},
		{"host=db port=5432 user=app password=s3cret dbname=cortex pool_max_conns=8 sslmode=disable",
			"host=db port=5432 user=app dbname=cortex sslmode=disable", "s3cret"},
	} {
		conn, password := backup.SplitPassword(tc.in)
		require.Equal(t, tc.conn, conn, tc.in)
		require.Equal(t, tc.password, password, tc.in)
		require.NotContains(t, conn, "s3cret")
	}
}
