package cmdutil_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
)

func TestTableHasNoTrailingSpaces(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, cmdutil.Table(&b, [][]string{{"A", "B", "NOTE"}, {"x", "yy", ""}, {"xxx", "y", "n"}}))
	require.Equal(t, "A    B   NOTE\nx    yy\nxxx  y   n\n", b.String())
}
