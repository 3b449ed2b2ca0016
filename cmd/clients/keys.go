package clients

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/english"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// RotateKeyOptions are `clients rotate-key`'s inputs once its flags are validated.
type RotateKeyOptions struct {
	Factory *cmdutil.Factory
	Request admin.KeyRequest
}

// NewCmdRotateKey is `cortexctl clients rotate-key`.
func NewCmdRotateKey(f *cmdutil.Factory, runF func(*RotateKeyOptions) error) *cobra.Command {
	opts := &RotateKeyOptions{Factory: f}
	var (
		actor      actorFlag
		keepOthers bool
	)
	cmd := &cobra.Command{
		Use:   "rotate-key ID|EMAIL [--keep-others]",
		Short: "Make a new API key for a client and revoke its others (the key is shown once)",
		Long: `Makes a new API key for a client and, in the same transaction, revokes the
client's other live keys: from the moment it returns, the API refuses them
(401) and takes the new one. With --keep-others nothing is revoked and the
client has one key more (to hand over a new key before the old one goes;
revoke-key it afterwards).

The key (ck_live_…) is printed once, now: cortexctl keeps only its SHA-256.
--actor is recorded as the key's created_by and the revoked keys'
revoked_by. Takes no job lock.`,
		Example: `  cortexctl clients rotate-key billing@acme.example
  cortexctl clients rotate-key billing@acme.example --keep-others --output json`,
		Args: cmdutil.OneArg(clientArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Request.Actor, err = actor.resolve(f.Env); err != nil {
				return err
			}
			opts.Request.Client, opts.Request.RevokeOthers = args[0], !keepOthers
			if runF != nil {
				return runF(opts)
			}
			return runRotateKey(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&keepOthers, "keep-others", false, "revoke none of the client's other keys: it gets one key more")
	actor.bind(cmd, "as the key's created_by and the revoked keys' revoked_by")
	return cmd
}

func runRotateKey(ctx context.Context, opts *RotateKeyOptions) error {
	f := opts.Factory
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	k, err := admin.CreateKey(ctx, p, opts.Request)
	if err != nil {
		return err
	}
	log := f.Log()
	log.Info().Str("client_id", k.ClientID.String()).Str("key_id", k.Key.ID.String()).Str("prefix", k.Key.Prefix).
		Int("revoked", len(k.Revoked)).Str("actor", k.Key.CreatedBy).Msg("API key created")
	if f.JSON() {
		log.Warn().Str("key_id", k.Key.ID.String()).Msg("the API key (api_key.secret) is in the output once: cortexctl keeps only its SHA-256 and cannot show it again")
		k.Revoked = cmdutil.NonNil(k.Revoked)
		return cmdutil.WriteJSON(f.IOStreams.Out, k)
	}
	return renderKeyCreated(f.IOStreams.Out, k)
}

func renderKeyCreated(w io.Writer, k admin.KeyCreated) error {
	if _, err := fmt.Fprintf(w, "new API key for %s (%s)\n\n", k.Email, k.ClientID); err != nil {
		return err
	}
	revoked := "none: the client's other keys still work"
	if len(k.Revoked) > 0 {
		var names []string
		for _, r := range k.Revoked {
			names = append(names, r.Prefix+" ("+r.ID.String()+")")
		}
		revoked = english.Plural(len(k.Revoked), "key") + ", refused from now on: " + strings.Join(names, ", ")
	}
	rows := [][]string{
		{"API key", k.Key.Secret},
		{"key id", k.Key.ID.String()},
		{"revoked", revoked},
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", shownOnce(k.Email))
	return err
}

// RevokeKeyOptions are `clients revoke-key`'s inputs once its arguments are validated.
type RevokeKeyOptions struct {
	Factory *cmdutil.Factory
	Request admin.RevokeRequest
}

// keyIDArg names revoke-key's second argument.
const keyIDArg = "the key's id (a UUID, as `clients show` lists it)"

// NewCmdRevokeKey is `cortexctl clients revoke-key`.
func NewCmdRevokeKey(f *cmdutil.Factory, runF func(*RevokeKeyOptions) error) *cobra.Command {
	opts := &RevokeKeyOptions{Factory: f}
	var actor actorFlag
	cmd := &cobra.Command{
		Use:   "revoke-key ID|EMAIL KEY_ID",
		Short: "Revoke one API key of a client",
		Long: `Revokes one API key of a client: from the moment it returns, the API refuses
it (401). The client's other keys keep working. KEY_ID is the key's id, as
` + "`clients show`" + ` lists it beside its prefix. A key revoked already is left as
it is (exit 0, saying when and by whom); a key that is not the client's
exits 2. --actor is recorded as the key's revoked_by. Takes no job lock.`,
		Example: `  cortexctl clients revoke-key billing@acme.example 3f1c2e8a-5b7d-4e21-9a0c-6d4b2f8e1a73`,
		Args:    exactArgs(clientArg, keyIDArg),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := uuid.Parse(args[1])
			if err != nil || len(args[1]) != 36 {
				return exitcode.Errorf(exitcode.Usage, "invalid KEY_ID %q: give %s", args[1], keyIDArg)
			}
			if opts.Request.Actor, err = actor.resolve(f.Env); err != nil {
				return err
			}
			opts.Request.Client, opts.Request.KeyID = args[0], id
			if runF != nil {
				return runF(opts)
			}
			return runRevokeKey(cmd.Context(), opts)
		},
	}
	actor.bind(cmd, "as the key's revoked_by")
	return cmd
}

func runRevokeKey(ctx context.Context, opts *RevokeKeyOptions) error {
	f := opts.Factory
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	k, err := admin.RevokeKey(ctx, p, opts.Request)
	if err != nil {
		return err
	}
	if !k.AlreadyRevoked {
		log := f.Log()
		log.Info().Str("client_id", k.Key.ClientID.String()).Str("key_id", k.Key.ID.String()).Str("prefix", k.Key.Prefix).
			Str("actor", opts.Request.Actor).Msg("API key revoked")
	}
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, k)
	}
	return renderRevoked(f.IOStreams.Out, k)
}

func renderRevoked(w io.Writer, k admin.KeyRevoked) error {
	at, by := instant(k.Key.RevokedAt, "-"), deref(k.Key.RevokedBy, "-")
	if k.AlreadyRevoked {
		_, err := fmt.Fprintf(w, "API key %s (%s) of %s was revoked already, at %s by %s; nothing was changed\n",
			k.Key.Prefix, k.Key.ID, k.Email, at, by)
		return err
	}
	_, err := fmt.Fprintf(w, "revoked API key %s (%s) of %s at %s; the API refuses it from now on\n", k.Key.Prefix, k.Key.ID, k.Email, at)
	return err
}
