// Package clients holds the `cortexctl clients` commands: list, show,
// enable and disable. They read and write through db/admin, the code the
// admin routes of the HTTP API share; they never take a job's lock, and
// only enable and disable write.
package clients

import (
	"os/user"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// clientArg names the positional argument of show, enable and disable.
const clientArg = "a client: its id (a UUID) or its e-mail"

// NewCmdClients is `cortexctl clients`.
func NewCmdClients(f *cmdutil.Factory) *cobra.Command {
	return cmdutil.Group("clients", "Clients: list, show, enable, disable (audited)",
		NewCmdList(f, nil), NewCmdShow(f, nil), NewCmdEnable(f, nil), NewCmdDisable(f, nil))
}

// writerFlags are --actor and --note, which enable and disable share.
type writerFlags struct {
	actor, note string
}

func (w *writerFlags) bind(cmd *cobra.Command) {
	cmd.Flags().StringVar(&w.actor, "actor", "", "who makes the change, recorded on the status event (default: the OS user, else $USER)")
	cmd.Flags().StringVar(&w.note, "note", "", "why, recorded on the status event, e.g. 'OPS-123: usage double-counted' (required)")
}

// resolve returns the actor and the note, or why they are refused.
func (w *writerFlags) resolve(env func(string) string) (actor, note string, err error) {
	if strings.TrimSpace(w.note) == "" {
		return "", "", exitcode.Errorf(exitcode.Usage, "--note is required: say why, e.g. --note 'OPS-123: usage was double-counted'")
	}
	actor = w.actor
	if actor == "" {
		actor = osUser(env)
	}
	if strings.TrimSpace(actor) == "" {
		return "", "", exitcode.Errorf(exitcode.Usage, "cannot tell who you are (no OS user name, no $USER): pass --actor, e.g. --actor ops:alice")
	}
	return actor, w.note, nil
}

// osUser is the OS user's name, else $USER.
func osUser(env func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return env("USER")
}
