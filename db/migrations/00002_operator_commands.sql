-- +goose Up
-- What `cortexctl clients enable/disable` need: an operator's exemption from
-- the hard-cap disable, and the operator's note on every status event.

-- An operator who enables a client beyond its hard cap exempts it until this
-- instant (at most the end of the period it was granted in): the overage job
-- bills it but does not disable it before then. Null: no exemption.
ALTER TABLE clients ADD COLUMN hard_cap_exempt_until timestamptz;

-- note: why, in the writer's words (the setting cortexctl.note).
-- hard_cap_exempt_until: the client's exemption after the change, if any.
ALTER TABLE client_status_events
    ADD COLUMN note text,
    ADD COLUMN hard_cap_exempt_until timestamptz;

-- +goose StatementBegin
-- Every status change, by anyone, leaves a row. A writer names itself with
--   set_config('cortexctl.actor', 'billing-overage', true)
--   set_config('cortexctl.job_run_id', '<uuid>', true)
--   set_config('cortexctl.note', 'OPS-123: usage double-counted', true)
-- inside its transaction; a change made without them is recorded as the
-- database role that made it.
CREATE OR REPLACE FUNCTION clients_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO client_status_events (client_id, from_status, to_status, reason, actor, job_run_id, note, hard_cap_exempt_until)
    VALUES (
        NEW.id, OLD.billing_status, NEW.billing_status,
        COALESCE(NEW.disabled_reason, NULLIF(current_setting('cortexctl.reason', true), '')),
        COALESCE(NULLIF(current_setting('cortexctl.actor', true), ''), session_user),
        NULLIF(current_setting('cortexctl.job_run_id', true), '')::uuid,
        NULLIF(current_setting('cortexctl.note', true), ''),
        NEW.hard_cap_exempt_until
    );
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- As in 00001, and: a disabled client carries no exemption. Whoever disables
-- a client (the overage job when an exemption has run out, an operator, the
-- grace job) clears it, so an exemption never outlives the enable it came with.
CREATE OR REPLACE FUNCTION clients_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF NEW.billing_status = 'disabled' THEN
        NEW.hard_cap_exempt_until := NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION clients_status_event() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION clients_guard_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.billing_status = 'grace_period' AND NEW.billing_status = 'grace_period'
       AND NEW.grace_period_started_at IS DISTINCT FROM OLD.grace_period_started_at THEN
        RAISE EXCEPTION 'grace_period_started_at of client % cannot change while it is in grace', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
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

ALTER TABLE client_status_events DROP COLUMN hard_cap_exempt_until, DROP COLUMN note;
ALTER TABLE clients DROP COLUMN hard_cap_exempt_until;
