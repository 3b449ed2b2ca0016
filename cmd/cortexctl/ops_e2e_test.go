package main_test

import (
	"os/user"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/db/fixture"
	"github.com/cortexlayer/cortexctl/internal/billing"
)

// End-to-end tests of the operator's commands (clients, charges, jobs show)
// against the real database, through the binary: `clients enable` with and
// without --exempt-until, then overage runs that honour the exemption
// until it ends and disable the client again once it has.

// changeJSON is the part of `clients enable|disable --output json` tests read.
type changeJSON struct {
	DryRun             bool       `json:"dry_run"`
	ClientID           uuid.UUID  `json:"client_id"`
	FromStatus         string     `json:"from_status"`
	ToStatus           string     `json:"to_status"`
	Reason             *string    `json:"reason"`
	HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
	Actor              string     `json:"actor"`
	Note               string     `json:"note"`
	Used               int64      `json:"used"`
	OverHardCap        bool       `json:"over_hard_cap"`
	Event              *eventJSON `json:"event"`
}

type eventJSON struct {
	ID                 int64      `json:"event_id"`
	From               string     `json:"from_status"`
	To                 string     `json:"to_status"`
	Reason             *string    `json:"reason"`
	Actor              string     `json:"actor"`
	Note               *string    `json:"note"`
	HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
	JobRunID           *uuid.UUID `json:"job_run_id"`
}

type clientJSON struct {
	ID                 uuid.UUID  `json:"client_id"`
	Email              string     `json:"email"`
	Status             string     `json:"status"`
	DisabledReason     *string    `json:"disabled_reason"`
	HardCapExemptUntil *time.Time `json:"hard_cap_exempt_until"`
	HardCapExempt      bool       `json:"hard_cap_exempt"`
	Period             string     `json:"period"`
	Used               int64      `json:"used"`
	Hard               int64      `json:"hard"`
	OverSoftCap        bool       `json:"over_soft_cap"`
	OverHardCap        bool       `json:"over_hard_cap"`
	Charged            []struct {
		Period  string `json:"period"`
		Units   int64  `json:"units"`
		Charges int    `json:"charges"`
		Pending int    `json:"pending"`
	} `json:"charged"`
	PendingCharges []chargeJSON `json:"pending_charges"`
	StatusEvents   []eventJSON  `json:"status_events"`
}

type chargeJSON struct {
	ID           uuid.UUID `json:"charge_id"`
	ClientID     uuid.UUID `json:"client_id"`
	Period       string    `json:"period"`
	Units        int64     `json:"units"`
	Status       string    `json:"status"`
	PushAttempts int       `json:"push_attempts"`
}

// dbClock is the database's now and its billing period. Near the end of a
// month it waits for the next one, so that a test never straddles two.
func dbClock(t *testing.T, f *fixture.Fixture) (time.Time, billing.Period) {
	t.Helper()
	var now time.Time
	f.Scalar(&now, `SELECT now()`)
	if left := billing.PeriodOf(now).End.Sub(now); left < time.Minute {
		time.Sleep(left + time.Second)
		f.Scalar(&now, `SELECT now()`)
	}
	return now.UTC(), billing.PeriodOf(now)
}

// lineFor is the overage report's line of a client in period.
func lineFor(t *testing.T, rep overageJSON, id uuid.UUID, period string) (action string, newUnits int64) {
	t.Helper()
	for _, l := range rep.Report.Clients {
		if l.ClientID == id && l.Period == period {
			return l.Action, l.NewUnits
		}
	}
	t.Fatalf("no line for client %s in %s", id, period)
	return "", 0
}

func TestOpsEnableExemptionThenOverage(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	_, cur := dbClock(t, f)
	activeFillers(f, 8)
	long := f.Client("starter")  // exempt to the end of the period
	short := f.Client("starter") // exempt for two seconds
	for _, id := range []uuid.UUID{long, short} {
		f.Usage(id, 1600, cur.Start) // hard cap 1500
	}
	overage := func() overageJSON {
		t.Helper()
		return decode[overageJSON](t, c.runOK("billing", "overage", "--no-stripe", "--output", "json"))
	}

	// The daily run disables both for the hard cap.
	first := overage()
	require.Equal(t, 2, first.Report.Totals.Disabled)

	// Enabling a client still beyond its hard cap without --exempt-until is
	// refused, says why and what to pass, and changes nothing.
	before := f.Dump()
	r := c.run("clients", "enable", fixtureEmail(long), "--note", "OPS-1: upgrading", "--actor", "ops:alice")
	requireOneLineError(t, r, 2, "the next overage run would disable it again: its 1600 queries this period ("+cur.String()+") are beyond its hard cap of 1500")
	require.Contains(t, r.stderr, "pass --exempt-until DATE (after now, at most "+cur.End.Format(time.DateOnly))
	// An exemption past the period: refused too.
	r = c.run("clients", "enable", long.String(), "--note", "n", "--exempt-until", cur.End.AddDate(0, 0, 1).Format(time.DateOnly))
	requireOneLineError(t, r, 2, "the exemption may not run past the end of the current billing period")
	// A dry run shows the change and writes nothing.
	dry := decode[changeJSON](t, c.runOK("clients", "enable", fixtureEmail(long), "--note", "n", "--exempt-until", cur.End.Format(time.DateOnly),
		"--dry-run", "--output", "json"))
	require.True(t, dry.DryRun)
	require.Nil(t, dry.Event)
	require.Equal(t, [2]string{"disabled", "active"}, [2]string{dry.FromStatus, dry.ToStatus})
	require.Equal(t, before, f.Dump(), "refusals and dry runs write nothing")

	// With --exempt-until: enabled, audited with the operator and the note.
	en := decode[changeJSON](t, c.runOK("clients", "enable", fixtureEmail(long), "--note", "OPS-1: upgrading", "--actor", "ops:alice",
		"--exempt-until", cur.End.Format(time.DateOnly), "--output", "json"))
	require.False(t, en.DryRun)
	require.True(t, en.OverHardCap)
	require.True(t, cur.End.Equal(*en.HardCapExemptUntil))
	require.NotNil(t, en.Event)
	require.Equal(t, "ops:alice", en.Event.Actor)
	require.Equal(t, "OPS-1: upgrading", *en.Event.Note)
	require.Nil(t, en.Event.JobRunID)
	var now time.Time
	f.Scalar(&now, `SELECT now()`)
	shortEnd := now.Add(2 * time.Second).UTC()
	c.runOK("clients", "enable", short.String(), "--note", "OPS-2: a short reprieve", "--actor", "ops:alice",
		"--exempt-until", shortEnd.Format(time.RFC3339Nano))

	// The next run honours both exemptions: it bills new usage, disables nobody.
	for _, id := range []uuid.UUID{long, short} {
		f.Usage(id, 100, cur.Start)
	}
	honoured := overage()
	require.Zero(t, honoured.Report.Totals.Disabled)
	for _, id := range []uuid.UUID{long, short} {
		action, units := lineFor(t, honoured, id, cur.String())
		require.Equal(t, "bill", action, "billed, not disabled")
		require.EqualValues(t, 100, units)
		status, _ := f.Status(id)
		require.Equal(t, "active", status)
	}

	// Once the short exemption has ended, the next run disables that client
	// again, and the disable clears the exemption; the other stays exempt.
	require.Eventually(t, func() bool {
		var over bool
		f.Scalar(&over, `SELECT now() >= $1`, shortEnd)
		return over
	}, 10*time.Second, 50*time.Millisecond)
	ended := overage()
	require.Equal(t, 1, ended.Report.Totals.Disabled)
	action, _ := lineFor(t, ended, short, cur.String())
	require.Equal(t, "disable", action)
	action, _ = lineFor(t, ended, long, cur.String())
	require.Equal(t, "none", action)
	status, reason := f.Status(short)
	require.Equal(t, [2]string{"disabled", "hard_cap"}, [2]string{status, reason})
	status, _ = f.Status(long)
	require.Equal(t, "active", status)

	// `clients show` tells the story, newest first.
	shown := decode[clientJSON](t, c.runOK("clients", "show", fixtureEmail(short), "--output", "json"))
	require.Nil(t, shown.HardCapExemptUntil, "cleared by the disable")
	require.Len(t, shown.StatusEvents, 3)
	require.Equal(t, "billing-overage", shown.StatusEvents[0].Actor)
	require.Equal(t, ended.Run.ID, *shown.StatusEvents[0].JobRunID)
	require.Equal(t, "ops:alice", shown.StatusEvents[1].Actor)
	require.Equal(t, "OPS-2: a short reprieve", *shown.StatusEvents[1].Note)
	require.True(t, shortEnd.Truncate(time.Microsecond).Equal(*shown.StatusEvents[1].HardCapExemptUntil))
	require.Equal(t, first.Run.ID, *shown.StatusEvents[2].JobRunID)
	require.Equal(t, cur.String(), shown.Charged[0].Period)
	require.EqualValues(t, 500, shown.Charged[0].Units)
	require.Equal(t, 2, shown.Charged[0].Pending)
	require.Len(t, shown.PendingCharges, 2)

	list := decode[[]clientJSON](t, c.runOK("clients", "list", "--over-soft-cap", "--output", "json"))
	require.Len(t, list, 2)
	byID := map[uuid.UUID]clientJSON{list[0].ID: list[0], list[1].ID: list[1]}
	require.True(t, byID[long].HardCapExempt)
	require.Equal(t, "active", byID[long].Status)
	require.False(t, byID[short].HardCapExempt)
	require.Equal(t, "hard_cap", *byID[short].DisabledReason)
	require.EqualValues(t, 1700, byID[long].Used)
	require.Len(t, decode[[]clientJSON](t, c.runOK("clients", "list", "--status", "disabled", "--output", "json")), 1)

	// The ledger and the run, read back.
	charges := decode[[]chargeJSON](t, c.runOK("charges", "list", "--pending", "--client", fixtureEmail(long), "--period", cur.String(), "--output", "json"))
	require.Len(t, charges, 2)
	require.EqualValues(t, 100, charges[0].Units, "newest first")
	require.EqualValues(t, 400, charges[1].Units)
	require.Zero(t, charges[0].PushAttempts, "--no-stripe: never pushed")
	run := decode[overageJSON](t, c.runOK("jobs", "show", ended.Run.ID.String()[:8], "--output", "json"))
	require.Equal(t, ended.Run.ID, run.Run.ID)
	require.Equal(t, 1, run.Report.Totals.Disabled, "the report as the run stored it")

	// Enabling an active client is refused; an operator's disable clears the
	// exemption and is audited with its reason.
	requireOneLineError(t, c.run("clients", "enable", long.String(), "--note", "n"), 2, "the client is not disabled: its status is active")
	dis := decode[changeJSON](t, c.runOK("clients", "disable", fixtureEmail(long), "--reason", "admin", "--note", "OPS-3: abuse",
		"--actor", "ops:bob", "--output", "json"))
	require.Equal(t, "admin", *dis.Event.Reason)
	require.Equal(t, "ops:bob", dis.Event.Actor)
	var until *time.Time
	f.Scalar(&until, `SELECT hard_cap_exempt_until FROM clients WHERE id = $1`, long)
	require.Nil(t, until)

	// Without --actor the actor is the OS user.
	me, err := user.Current()
	require.NoError(t, err)
	back := decode[changeJSON](t, c.runOK("clients", "enable", long.String(), "--note", "OPS-3: resolved",
		"--exempt-until", cur.End.Format(time.DateOnly), "--output", "json"))
	require.Equal(t, me.Username, back.Event.Actor)
}

// fixtureEmail is the e-mail fixture.Client gives a client.
func fixtureEmail(id uuid.UUID) string { return id.String() + "@example.test" }

// The read commands change nothing and record no run (they never go
// through the job runner), and print tables with no trailing spaces, or
// JSON on request.
func TestOpsReadCommandsNeverWrite(t *testing.T) {
	t.Parallel()
	f := fixture.New(t)
	c := newCLI(t, f.DB.URL)
	_, cur := dbClock(t, f)
	activeFillers(f, 4)
	id := f.Client("growth")
	f.Usage(id, 6100, cur.Start)
	c.runOK("billing", "overage", "--no-stripe")
	var runID string
	f.Scalar(&runID, `SELECT id::text FROM job_runs`)

	before, runs := f.Dump(), f.JobRunCount()
	for _, args := range [][]string{
		{"clients", "list"}, {"clients", "list", "--status", "active", "--plan", "growth", "--over-soft-cap"},
		{"clients", "show", fixtureEmail(id)}, {"clients", "show", id.String()},
		{"charges", "list"}, {"charges", "list", "--pending", "--client", id.String(), "--period", cur.String()},
		{"jobs", "history", "--status", "succeeded", "--since", "1h"}, {"jobs", "show", runID[:6]},
	} {
		table := c.runOK(args...).stdout
		require.NotEmpty(t, table, "%v", args)
		for _, line := range strings.Split(table, "\n") {
			require.Equalf(t, strings.TrimRight(line, " "), line, "no trailing spaces: %v", args)
		}
		js := c.runOK(append(args, "--output", "json")...)
		require.Contains(t, "[{", js.stdout[:1], "%v prints JSON with -o json:\n%s", args, js.stdout)
	}
	require.Equal(t, before, f.Dump(), "the read commands write nothing")
	require.Equal(t, runs, f.JobRunCount(), "and record no run")

	show := c.runOK("clients", "show", fixtureEmail(id)).stdout
	require.Contains(t, show, "usage               6100 queries in "+cur.String())
	require.Regexp(t, `(?m)^`+cur.String()+`\s+100\s+1\.00 USD\s+1\s+1$`, show)
	require.Contains(t, c.runOK("charges", "list", "--pending").stdout, "1 charge, 1 pending")

	// What is not there is exit 2, naming what was given.
	requireOneLineError(t, c.run("clients", "show", "nobody@example.test"), 2, `no client has the e-mail "nobody@example.test"`)
	requireOneLineError(t, c.run("clients", "show", ""), 2, "cortexctl clients show was given an empty argument")
	requireOneLineError(t, c.run("charges", "list", "--client", "nobody@example.test"), 2, `--client: no client has the e-mail "nobody@example.test"`)
	requireOneLineError(t, c.run("clients", "list", "--plan", "platinum"), 2, `--plan: unknown plan "platinum": the plans are starter, growth, scale`)
	requireOneLineError(t, c.run("jobs", "show", "ffff"), 2, `no run has an id starting with "ffff"`)
	requireOneLineError(t, c.run("clients", "disable", id.String(), "--note", "n", "--reason", "hard_cap"), 2, `invalid --reason "hard_cap": an operator may set admin`)
	require.Equal(t, before, f.Dump())
}
