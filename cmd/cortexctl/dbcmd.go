package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

func newDBCmd(f *factory) *cobra.Command {
	migrate := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the embedded schema migrations (a no-op when up to date)",
		Long: `Applies every pending migration embedded in this binary, each in its own
transaction. Safe to run twice, and twice at once: concurrent runs wait for
each other on an advisory lock.`,
		Example: "  cortexctl db migrate\n  cortexctl db migrate status",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := f.DB(cmd.Context())
			if err != nil {
				return err
			}
			applied, err := db.Migrate(cmd.Context(), pool)
			if err != nil {
				return err
			}
			version, err := db.SchemaVersion(cmd.Context(), pool)
			if err != nil {
				return err
			}
			f.log.Info().Int("applied", len(applied)).Int64("schema_version", version).Msg("migrations done")
			if f.g.output == "json" {
				return writeJSON(f.stdout, map[string]any{"applied": nonNil(applied), "schema_version": version})
			}
			for _, a := range applied {
				if _, err := fmt.Fprintf(f.stdout, "applied %s (%s)\n", a.Name, a.Duration.Round(time.Millisecond)); err != nil {
					return err
				}
			}
			_, err = fmt.Fprintf(f.stdout, "schema is at version %d (%d migrations applied now)\n", version, len(applied))
			return err
		},
	}
	migrate.AddCommand(&cobra.Command{
		Use:     "status",
		Short:   "List the embedded migrations and whether each is applied",
		Example: "  cortexctl db migrate status --output json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pool, err := f.DB(cmd.Context())
			if err != nil {
				return err
			}
			st, err := db.MigrationStatus(cmd.Context(), pool)
			if err != nil {
				return err
			}
			if f.g.output == "json" {
				return writeJSON(f.stdout, st)
			}
			rows := [][]string{{"VERSION", "MIGRATION", "STATE", "APPLIED AT"}}
			for _, s := range st {
				state, at := "pending", "-"
				if s.Applied {
					state, at = "applied", s.AppliedAt.Format(time.RFC3339)
				}
				rows = append(rows, []string{fmt.Sprint(s.Version), s.Name, state, at})
			}
			return table(f.stdout, rows)
		},
	})

	var (
		demo, force bool
		asOf        string
	)
	seed := &cobra.Command{
		Use:   "seed",
		Short: "Load demo data that exercises every billing rule",
		Long: `Loads demo clients (e-mail *@` + db.DemoDomain + `) with usage this month and last,
earlier charges and payments, placed relative to --as-of (default now): clients
under, between and over the caps, one disabled for the hard cap last month,
clients in grace for 8 and 3 days, one who paid during grace.

Refuses a database that already holds clients unless --force, which replaces
the demo clients and keeps every other client.`,
		Example: "  cortexctl db seed --demo\n  cortexctl db seed --demo --force --as-of 2026-11-20",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !demo {
				return exitcode.Errorf(exitcode.Usage, "nothing to seed: pass --demo to load the demo data set")
			}
			now, err := parseAsOf(asOf, f.now)
			if err != nil {
				return err
			}
			pool, err := f.DB(cmd.Context())
			if err != nil {
				return err
			}
			clients, err := db.SeedDemo(cmd.Context(), pool, now, force)
			if err != nil {
				return err
			}
			f.log.Info().Int("clients", len(clients)).Time("as_of", now).Msg("demo data loaded")
			if f.g.output == "json" {
				return writeJSON(f.stdout, clients)
			}
			rows := [][]string{{"CLIENT", "PLAN", "STATUS", "QUERIES", "SHOWS"}}
			for _, c := range clients {
				rows = append(rows, []string{c.Email, c.Plan, c.Status, fmt.Sprint(c.Queries), c.Scenario})
			}
			return table(f.stdout, rows)
		},
	}
	seed.Flags().BoolVar(&demo, "demo", false, "load the demo data set")
	seed.Flags().BoolVar(&force, "force", false, "replace the demo clients even though the database holds clients")
	seed.Flags().StringVar(&asOf, "as-of", "", "place the data relative to this instant (RFC 3339 or a date; default now)")

	return group("db", "Database schema and data: migrate, migrate status, seed", migrate, seed)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
