package english_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/english"
)

func TestPlural(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		noun string
		want string
	}{
		{0, "charge", "0 charges"}, {1, "charge", "1 charge"}, {2, "client", "2 clients"},
		{53, "entry", "53 entries"}, {1, "entry", "1 entry"}, {2, "day", "2 days"}, {3, "key", "3 keys"},
	} {
		require.Equal(t, tc.want, english.Plural(tc.n, tc.noun))
	}
}
