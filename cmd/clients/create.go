package clients

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	"github.com/cortexlayer/cortexctl/db/admin"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// CreateOptions are `clients create`'s inputs once its flags are validated.
type CreateOptions struct {
	Factory *cmdutil.Factory
	Request admin.CreateRequest
}

// NewCmdCreate is `cortexctl clients create`.
func NewCmdCreate(f *cmdutil.Factory, runF func(*CreateOptions) error) *cobra.Command {
	opts := &CreateOptions{Factory: f}
	var actor actorFlag
	cmd := &cobra.Command{
		Use:   "create --email EMAIL --company NAME --plan PLAN [--stripe-customer cus_…]",
		Short: "Create a client and its first API key (the key is shown once)",
		Long: `Creates an active client on a plan, and its first API key, in one
transaction. The key (ck_live_…) is printed once, now: cortexctl keeps only
its SHA-256 and cannot show it again (rotate-key makes a new one).

An e-mail that is a client's already, ignoring case, or a Stripe customer
that is, is refused (exit 2) naming that client; so is an unknown plan, with
the list of plans. --actor is recorded as the key's created_by. Takes no job
lock.`,
		Example: `  cortexctl clients create --email billing@acme.example --company 'Acme Ltd' --plan growth
  cortexctl clients create --email billing@acme.example --company 'Acme Ltd' --plan growth --stripe-customer cus_NffrFeUfNV2Hib --output json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, req := range []struct{ flag, value string }{
				{"email", opts.Request.Email}, {"company", opts.Request.Company}, {"plan", opts.Request.Plan},
			} {
				if req.value == "" {
					return exitcode.Errorf(exitcode.Usage, "--%s is required (see '%s --help')", req.flag, cmd.CommandPath())
				}
			}
			var err error
			if opts.Request.Actor, err = actor.resolve(f.Env); err != nil {
				return err
			}
			if opts.Request, err = opts.Request.Check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(opts)
			}
			return runCreate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Request.Email, "email", "", "the client's e-mail, unique ignoring case (required)")
	fl.StringVar(&opts.Request.Company, "company", "", "the client's company name (required)")
	fl.StringVar(&opts.Request.Plan, "plan", "", "its plan's code, e.g. starter, growth, scale (required)")
	fl.StringVar(&opts.Request.StripeCustomerID, "stripe-customer", "", "its Stripe customer id (cus_…), if it has one; unique")
	actor.bind(cmd, "as the key's created_by")
	return cmd
}

func runCreate(ctx context.Context, opts *CreateOptions) error {
	f := opts.Factory
	p, err := f.MigratedDB(ctx)
	if err != nil {
		return err
	}
	c, err := admin.CreateClient(ctx, p, opts.Request)
	if err != nil {
		return err
	}
	log := f.Log()
	log.Info().Str("client_id", c.Client.ID.String()).Str("plan", c.Client.Plan).Str("key_id", c.Key.ID.String()).
		Str("prefix", c.Key.Prefix).Str("actor", c.Key.CreatedBy).Msg("client created")
	if f.JSON() {
		log.Warn().Str("key_id", c.Key.ID.String()).Msg("the API key (api_key.secret) is in the output once: cortexctl keeps only its SHA-256 and cannot show it again")
		c.Client.PendingCharges = cmdutil.NonNil(c.Client.PendingCharges)
		c.Client.StatusEvents = cmdutil.NonNil(c.Client.StatusEvents)
		c.Client.APIKeys = cmdutil.NonNil(c.Client.APIKeys)
		return cmdutil.WriteJSON(f.IOStreams.Out, c)
	}
	return renderCreated(f.IOStreams.Out, c)
}

func renderCreated(w io.Writer, c admin.Created) error {
	d := c.Client
	if _, err := fmt.Fprintf(w, "created client %s (%s)\n\n", d.Email, d.ID); err != nil {
		return err
	}
	rows := [][]string{
		{"client", d.Email},
		{"id", d.ID.String()},
		{"company", d.Company},
		{"plan", fmt.Sprintf("%s: limit %d, soft cap %d, hard cap %d", d.Plan, d.Limit, d.Soft, d.Hard)},
		{"status", d.Status},
		{"stripe customer", deref(d.StripeCustomerID, "none")},
		{"API key", c.Key.Secret},
		{"key id", c.Key.ID.String()},
	}
	if err := cmdutil.Table(w, rows); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", shownOnce(d.Email))
	return err
}
