package apikey

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNewKeysCheckAndDiffer(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	require.NoError(t, Check(a.Secret))
	require.NoError(t, Check(b.Secret))
	require.NotEqual(t, a.Secret, b.Secret)
	require.Len(t, a.Hash, 32)
	require.True(t, bytes.Equal(a.Hash, Hash(a.Secret)))
	require.False(t, bytes.Equal(a.Hash, b.Hash))
	require.Equal(t, a.Secret[:ShownLen], a.Shown)
	require.Regexp(t, `^ck_live_[A-Z2-7]{4}$`, a.Shown)
}

func TestCheckRefusesWhatIsNotAKey(t *testing.T) {
	t.Parallel()
	good := New().Secret
	for _, s := range []string{
		"", "ck_live_", good[:len(good)-1], good + "A", "ck_test_" + good[len(Prefix):],
		"sk_live_" + good[len(Prefix):], good[:len(good)-1] + "1", good[:len(good)-1] + "a",
	} {
		require.ErrorIs(t, Check(s), ErrMalformed, "%q", s)
	}
}
