-- +goose Up
-- What `cortexctl api` needs: clients' API keys, idempotent usage writes,
-- and Stripe webhook events applied once and in order.

-- A client's API keys. The key itself (ck_live_…) is shown once, when it is
-- made; only its SHA-256 is kept. prefix is its first characters, for humans
-- to tell keys apart in lists and logs.
CREATE TABLE api_keys (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id  uuid  NOT NULL REFERENCES clients (id),
    prefix     text  NOT NULL,
    key_hash   bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text  NOT NULL,
    revoked_at timestamptz,
    revoked_by text,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX api_keys_client_idx ON api_keys (client_id);

-- One row per Idempotency-Key a client sent with POST /v1/usage: the request
-- it came with (its hash) and the response it got, replayed to a retry.
CREATE TABLE usage_requests (
    client_id       uuid  NOT NULL REFERENCES clients (id),
    idempotency_key text  NOT NULL,
    request_hash    bytea NOT NULL,
    response        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, idempotency_key)
);
CREATE INDEX usage_requests_created_idx ON usage_requests (created_at);

-- Every Stripe webhook event received, by its id: a redelivery finds its row
-- and changes nothing. outcome says what it did.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    created_at  timestamptz NOT NULL, -- when Stripe created the event
    client_id   uuid REFERENCES clients (id),
    outcome     text NOT NULL CHECK (outcome IN ('applied', 'recorded', 'stale', 'ignored', 'unknown_customer')),
    received_at timestamptz NOT NULL DEFAULT now()
);

-- The creation time of the newest Stripe event that moved (or kept) the
-- client's status: an older event delivered later never moves it back.
ALTER TABLE clients ADD COLUMN stripe_event_at timestamptz;

-- The Stripe event a payment row came from; a redelivery adds no second row.
ALTER TABLE payments ADD COLUMN stripe_event_id text UNIQUE REFERENCES stripe_events (id);

-- +goose Down
ALTER TABLE payments DROP COLUMN stripe_event_id;
ALTER TABLE clients DROP COLUMN stripe_event_at;
DROP TABLE stripe_events, usage_requests, api_keys;
