package testenv_test

import (
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/testenv"
)

// helperErrEnv, when set, makes TestNeedHelper call Need with an error of
// that text ("" for a service that answers). TestNeed runs TestNeedHelper in
// a child test binary, so a real *testing.T passes, skips or fails there.
const helperErrEnv = "TESTENV_HELPER_ERR"

// afterNeed is printed by TestNeedHelper when Need lets the test go on.
const afterNeed = "testenv-helper: after Need"

func TestNeedHelper(t *testing.T) {
	msg, ok := os.LookupEnv(helperErrEnv)
	if !ok {
		return // only meaningful in the child started by TestNeed
	}
	var err error
	if msg != "" {
		err = errors.New(msg)
	}
	testenv.Need(t, "stripe-mock", err)
	t.Log(afterNeed)
}

// Each case runs TestNeedHelper in a child process with its own environment.
func TestNeed(t *testing.T) {
	tests := []struct {
		name     string
		err      string // "" = the service answers
		skip     string // value of CORTEXCTL_TEST_SKIP
		want     string // "PASS", "SKIP" or "FAIL"
		contains []string
	}{
		{name: "answering", want: "PASS", contains: []string{afterNeed}},
		{name: "answering and opted out still runs", skip: "stripe-mock", want: "PASS", contains: []string{afterNeed}},
		{
			name: "missing fails with how to start it", err: "connection refused", want: "FAIL",
			contains: []string{
				"stripe-mock is not answering: connection refused",
				"`make test` starts it for you; or set CORTEXCTL_TEST_SKIP=stripe-mock to skip the tests that need it",
			},
		},
		{
			name: "missing and another service opted out fails", err: "connection refused",
			skip: "s3,stripe-mock-x", want: "FAIL", contains: []string{"`make test` starts it"},
		},
		{
			name: "missing and opted out skips naming the variable", err: "connection refused",
			skip: "s3, Stripe-Mock ", want: "SKIP",
			contains: []string{"stripe-mock is not answering: connection refused; skipped because CORTEXCTL_TEST_SKIP lists stripe-mock"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestNeedHelper$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), helperErrEnv+"="+tt.err, testenv.EnvSkip+"="+tt.skip,
				// Under -race a child would otherwise sleep 1s on exit.
				"GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
			out, err := cmd.CombinedOutput()
			output := string(out)

			require.Contains(t, output, "--- "+tt.want+": TestNeedHelper", output)
			if tt.want == "FAIL" {
				var exit *exec.ExitError
				require.ErrorAs(t, err, &exit, output)
			} else {
				require.NoError(t, err, output)
			}
			for _, s := range tt.contains {
				require.Contains(t, output, s)
			}
			if tt.want != "PASS" {
				require.NotContains(t, output, afterNeed, "Need must end the test")
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	tests := []struct {
		env  string
		want bool
	}{
		{env: "", want: false},
		{env: "stripe-mock", want: true},
		{env: "s3,stripe-mock,redis", want: true},
		{env: " s3 , STRIPE-MOCK ", want: true},
		{env: "s3,redis", want: false},
		{env: "stripe", want: false},
		{env: "stripe-mock-x", want: false},
		{env: ",,", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(testenv.EnvSkip, tt.env)
			require.Equal(t, tt.want, testenv.Skipped("stripe-mock"))
		})
	}
	t.Run("empty name is never listed", func(t *testing.T) {
		t.Setenv(testenv.EnvSkip, "a,,b")
		require.False(t, testenv.Skipped(""))
	})
}
