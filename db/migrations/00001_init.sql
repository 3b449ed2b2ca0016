-- +goose Up
-- The schema contract of cortexctl. Table and column names listed in docs/schema.md
-- are relied on by operators' SQL and dashboards: rename nothing without a migration
-- that keeps the old names working.

CREATE TABLE plans (
    code                      text PRIMARY KEY,
    monthly_query_limit       integer NOT NULL CHECK (monthly_query_limit > 0),
    soft_cap_percent          integer NOT NULL DEFAULT 20 CHECK (soft_cap_percent >= 0),
    hard_cap_percent          integer NOT NULL DEFAULT 50,
    overage_unit_price_micros bigint  NOT NULL CHECK (overage_unit_price_micros >= 0),
    currency                  text    NOT NULL DEFAULT 'usd' CHECK (currency ~ '^[a-z]{3}$'),
    rate_limit_per_minute     integer NOT NULL CHECK (rate_limit_per_minute > 0),
    CHECK (hard_cap_percent >= soft_cap_percent)
);

INSERT INTO plans (code, monthly_query_limit, overage_unit_price_micros, rate_limit_per_minute) VALUES
    ('starter',  1000, 10000,  15),
    ('growth',   5000, 10000,  50),
    ('scale',   50000, 10000, 100);

CREATE TABLE clients (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                   text NOT NULL UNIQUE,
    company_name            text NOT NULL,
    plan_code               text NOT NULL REFERENCES plans (code),
    billing_status          text NOT NULL DEFAULT 'active'
        CHECK (billing_status IN ('active', 'grace_period', 'disabled', 'cancelled')),
    disabled_reason         text
        CHECK (disabled_reason IN ('hard_cap', 'grace_expired', 'admin', 'subscription_cancelled')),
    disabled_at             timestamptz,
    stripe_customer_id      text UNIQUE,
    grace_period_started_at timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    -- A disabled client always says why; nobody else carries a reason.
    CHECK ((billing_status = 'disabled') = (disabled_reason IS NOT NULL)),
    -- The grace clock exists exactly while the client is in grace.
    CHECK ((billing_status = 'grace_period') = (grace_period_started_at IS NOT NULL))
);

CREATE TABLE usage_logs (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id      uuid    NOT NULL REFERENCES clients (id),
    operation_type text    NOT NULL,
    quantity       integer NOT NULL DEFAULT 1 CHECK (quantity > 0),
    occurred_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX usage_logs_occurred_at_idx ON usage_logs (occurred_at);
CREATE INDEX usage_logs_client_occurred_idx ON usage_logs (client_id, occurred_at);

CREATE TABLE payments (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id         uuid NOT NULL REFERENCES clients (id),
    status            text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    amount_cents      bigint,
    stripe_invoice_id text,
    occurred_at       timestamptz NOT NULL
);
CREATE INDEX payments_client_occurred_idx ON payments (client_id, occurred_at);

CREATE TABLE job_runs (
    id          uuid PRIMARY KEY,
    job         text NOT NULL,
    status      text NOT NULL
        CHECK (status IN ('running', 'succeeded', 'failed', 'partial', 'skipped', 'interrupted', 'timed_out')),
    dry_run     boolean NOT NULL DEFAULT false,
    as_of       timestamptz,
    host        text NOT NULL,
    pid         integer NOT NULL,
    version     text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    exit_code   integer,
    summary     jsonb,
    error       text
);
CREATE INDEX job_runs_job_started_idx ON job_runs (job, started_at DESC);

CREATE TABLE overage_charges (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id              uuid   NOT NULL REFERENCES clients (id),
    period_start           date   NOT NULL CHECK (extract(day FROM period_start) = 1),
    -- The charge covers billable units (units_from, units_from + units] of the period.
    units_from             bigint NOT NULL CHECK (units_from >= 0),
    units                  bigint NOT NULL CHECK (units > 0),
    amount_cents           bigint NOT NULL CHECK (amount_cents >= 0),
    currency               text   NOT NULL,
    unit_price_micros      bigint NOT NULL,
    status                 text   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted')),
    stripe_invoice_item_id text UNIQUE,
    idempotency_key        text   NOT NULL UNIQUE,
    push_attempts          integer NOT NULL DEFAULT 0,
    last_push_error        text,
    job_run_id             uuid REFERENCES job_runs (id),
    created_at             timestamptz NOT NULL DEFAULT now(),
    posted_at              timestamptz,
    -- Charges of one client and period form a chain with no gap and no overlap.
    UNIQUE (client_id, period_start, units_from),
    CHECK ((status = 'posted') = (stripe_invoice_item_id IS NOT NULL))
);
CREATE INDEX overage_charges_pending_idx ON overage_charges (created_at) WHERE status = 'pending';

CREATE TABLE client_status_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id   uuid NOT NULL REFERENCES clients (id),
    from_status text NOT NULL,
    to_status   text NOT NULL,
    reason      text,
    actor       text NOT NULL,
    job_run_id  uuid,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_status_events_client_idx ON client_status_events (client_id, occurred_at);

-- +goose StatementBegin
-- Every status change, by anyone, leaves a row. A writer names itself with
--   set_config('cortexctl.actor', 'billing-overage', true)
--   set_config('cortexctl.job_run_id', '<uuid>', true)
-- inside its transaction; a change made without them is recorded as the
-- database role that made it.
CREATE FUNCTION clients_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO client_status_events (client_id, from_status, to_status, reason, actor, job_run_id)
    VALUES (
        NEW.id, OLD.billing_status, NEW.billing_status,
        COALESCE(NEW.disabled_reason, NULLIF(current_setting('cortexctl.reason', true), '')),
        COALESCE(NULLIF(current_setting('cortexctl.actor', true), ''), session_user),
        NULLIF(current_setting('cortexctl.job_run_id', true), '')::uuid
    );
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER clients_status_event
    AFTER UPDATE OF billing_status ON clients
    FOR EACH ROW WHEN (OLD.billing_status IS DISTINCT FROM NEW.billing_status)
    EXECUTE FUNCTION clients_status_event();

-- +goose StatementBegin
-- The grace clock starts at the first failure and nothing moves it while the
-- client stays in grace: the old system re-anchored it on every edit.
-- disabled_at is set whenever a client becomes disabled, and only then.
CREATE FUNCTION clients_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.billing_status = 'grace_period' AND NEW.billing_status = 'grace_period'
       AND NEW.grace_period_started_at IS DISTINCT FROM OLD.grace_period_started_at THEN
        RAISE EXCEPTION 'grace_period_started_at of client % cannot change while it is in grace', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    -- Whoever disables a client, the instant is known: the hard-cap rule needs it.
    IF NEW.billing_status = 'disabled' AND NEW.disabled_at IS NULL THEN
        NEW.disabled_at := now();
    ELSIF NEW.billing_status <> 'disabled' THEN
        NEW.disabled_at := NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER clients_guard_update
    BEFORE INSERT OR UPDATE ON clients
    FOR EACH ROW EXECUTE FUNCTION clients_guard_update();

-- +goose Down
DROP TABLE client_status_events, overage_charges, job_runs, payments, usage_logs, clients, plans;
DROP FUNCTION clients_status_event, clients_guard_update;
