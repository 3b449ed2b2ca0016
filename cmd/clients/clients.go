// Package clients holds the `cortexctl clients` commands: list and show
// read; create, set-plan, rotate-key, revoke-key, enable and disable
// write, each naming its actor. They read and write through db/admin, the
// code the admin routes of the HTTP API share; they never take a job's
// lock.
package clients

import (
	"fmt"
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
	return cmdutil.Group("clients", "Clients: list, show, create, set-plan, rotate-key, revoke-key, enable, disable",
		NewCmdList(f, nil), NewCmdShow(f, nil), NewCmdCreate(f, nil), NewCmdSetPlan(f, nil),
		NewCmdRotateKey(f, nil), NewCmdRevokeKey(f, nil), NewCmdEnable(f, nil), NewCmdDisable(f, nil))
}

// actorFlag is --actor, which every write takes.
type actorFlag struct{ actor string }

// bind declares --actor; recorded says where the actor is recorded.
func (a *actorFlag) bind(cmd *cobra.Command, recorded string) {
	cmd.Flags().StringVar(&a.actor, "actor", "", "who makes the change, recorded "+recorded+" (default: the OS user, else $USER)")
}

// resolve returns the actor, or why there is none.
func (a *actorFlag) resolve(env func(string) string) (string, error) {
	actor := a.actor
	if actor == "" {
		actor = osUser(env)
	}
	if strings.TrimSpace(actor) == "" {
		return "", exitcode.Errorf(exitcode.Usage, "cannot tell who you are (no OS user name, no $USER): pass --actor, e.g. --actor ops:alice")
	}
	return actor, nil
}

// writerFlags are --actor and --note, which enable and disable share.
type writerFlags struct {
	actorFlag
	note string
}

func (w *writerFlags) bind(cmd *cobra.Command) {
	w.actorFlag.bind(cmd, "on the status event")
	cmd.Flags().StringVar(&w.note, "note", "", "why, recorded on the status event, e.g. 'OPS-123: usage double-counted' (required)")
}

// resolve returns the actor and the note, or why they are refused.
func (w *writerFlags) resolve(env func(string) string) (actor, note string, err error) {
	if strings.TrimSpace(w.note) == "" {
		return "", "", exitcode.Errorf(exitcode.Usage, "--note is required: say why, e.g. --note 'OPS-123: usage was double-counted'")
	}
	if actor, err = w.actorFlag.resolve(env); err != nil {
		return "", "", err
	}
	return actor, w.note, nil
}

// exactArgs accepts one positional argument per name in what, none blank.
func exactArgs(what ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != len(what) {
			return exitcode.Errorf(exitcode.Usage, "%s takes %d arguments, %s; got %d (see '%s --help')",
				cmd.CommandPath(), len(what), strings.Join(what, ", then "), len(args), cmd.CommandPath())
		}
		for i, a := range args {
			if strings.TrimSpace(a) == "" {
				return exitcode.Errorf(exitcode.Usage, "%s was given an empty argument %d: it needs %s", cmd.CommandPath(), i+1, what[i])
			}
		}
		return nil
	}
}

// shownOnce is what follows a new key, wherever it is printed.
func shownOnce(email string) string {
	return fmt.Sprintf("This API key is shown once, now: hand it to the client (it goes in the header Authorization: Bearer <key>). "+
		"cortexctl keeps only its SHA-256 and cannot show it again; if it is lost, make a new one with `cortexctl clients rotate-key %s`.", email)
}

// osUser is the OS user's name, else $USER.
func osUser(env func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return env("USER")
}
