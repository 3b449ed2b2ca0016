package db

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/cmd/cmdutil"
	store "github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// SeedOptions are `db seed`'s inputs once its flags are parsed.
type SeedOptions struct {
	Factory *cmdutil.Factory
	AsOf    time.Time // the data is placed relative to this instant
	Force   bool
}

// NewCmdSeed is `cortexctl db seed`.
func NewCmdSeed(f *cmdutil.Factory, runF func(*SeedOptions) error) *cobra.Command {
	opts := &SeedOptions{Factory: f}
	var (
		demo bool
		asOf string
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Load demo data that exercises every billing rule",
		Long: `Loads demo clients (e-mail *@` + store.DemoDomain + `) with usage this month and last,
earlier charges and payments, placed relative to --as-of (default now): clients
under, between and over the caps, one disabled for the hard cap last month,
clients in grace for 8 and 3 days, one who paid during grace.

Refuses a database that already holds clients unless --force, which replaces
the demo clients and keeps every other client.`,
		Example: "  cortexctl db seed --demo\n  cortexctl db seed --demo --force --as-of 2026-11-20",
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !demo {
				return exitcode.Errorf(exitcode.Usage, "nothing to seed: pass --demo to load the demo data set")
			}
			opts.AsOf = f.Now().UTC().Truncate(time.Microsecond)
			if asOf != "" {
				var err error
				if opts.AsOf, err = cmdutil.ParseAsOf(asOf); err != nil {
					return err
				}
			}
			if runF != nil {
				return runF(opts)
			}
			return runSeed(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&demo, "demo", false, "load the demo data set")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace the demo clients even though the database holds clients")
	cmd.Flags().StringVar(&asOf, "as-of", "", "place the data relative to this instant (RFC 3339 or a date; default now)")
	return cmd
}

func runSeed(ctx context.Context, opts *SeedOptions) error {
	f := opts.Factory
	pool, err := f.DB(ctx)
	if err != nil {
		return err
	}
	clients, err := store.SeedDemo(ctx, pool, opts.AsOf, opts.Force)
	if err != nil {
		return err
	}
	log := f.Log()
	log.Info().Int("clients", len(clients)).Time("as_of", opts.AsOf).Msg("demo data loaded")
	if f.JSON() {
		return cmdutil.WriteJSON(f.IOStreams.Out, clients)
	}
	rows := [][]string{{"CLIENT", "PLAN", "STATUS", "QUERIES", "SHOWS"}}
	for _, c := range clients {
		rows = append(rows, []string{c.Email, c.Plan, c.Status, fmt.Sprint(c.Queries), c.Scenario})
	}
	return cmdutil.Table(f.IOStreams.Out, rows)
}
