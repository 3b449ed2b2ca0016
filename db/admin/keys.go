package admin

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/apikey"
)

// Key is one row of api_keys without its hash: what may be shown of a key
// any time after it was made.
type Key struct {
	ID        uuid.UUID  `json:"key_id"`
	ClientID  uuid.UUID  `json:"client_id"`
	Prefix    string     `json:"prefix"` // its first characters (ck_live_ and 4), to tell keys apart
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at"` // null while the key works
	RevokedBy *string    `json:"revoked_by"`
}

// NewKey is a key just made. Secret is the key itself: it is returned
// here, once, and stored nowhere (api_keys keeps its SHA-256).
type NewKey struct {
	Key
	Secret string `json:"secret"`
}

// MaxKeys is how many keys ShowClient returns.
const MaxKeys = 20

const keysSQL = `
	SELECT id, client_id, prefix, created_at, created_by, revoked_at, revoked_by
	FROM api_keys WHERE client_id = $1
	ORDER BY revoked_at IS NULL DESC, created_at DESC, id
	LIMIT $2`

// keys reads a client's keys: the live ones first, each newest first.
func keys(ctx context.Context, q db.Querier, id uuid.UUID, limit int) ([]Key, error) {
	rows, err := q.Query(ctx, keysSQL, id, limit)
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanKey)
	if err != nil {
		return nil, fmt.Errorf("read API keys: %w", err)
	}
	return out, nil
}

func scanKey(row pgx.CollectableRow) (Key, error) {
	var k Key
	err := row.Scan(&k.ID, &k.ClientID, &k.Prefix, &k.CreatedAt, &k.CreatedBy, &k.RevokedAt, &k.RevokedBy)
	k.CreatedAt, k.RevokedAt = k.CreatedAt.UTC(), utc(k.RevokedAt)
	return k, err
}

// insertKey makes a key for a client and stores its hash; the secret is in
// the result only.
func insertKey(ctx context.Context, tx pgx.Tx, client uuid.UUID, actor string) (NewKey, error) {
	made := apikey.New()
	k := NewKey{Key: Key{ClientID: client, Prefix: made.Shown, CreatedBy: actor}, Secret: made.Secret}
	err := tx.QueryRow(ctx, `
		INSERT INTO api_keys (client_id, prefix, key_hash, created_by) VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, client, made.Shown, made.Hash, actor).Scan(&k.ID, &k.CreatedAt)
	if err != nil {
		// The error never holds the secret: pgx does not quote arguments.
		return NewKey{}, fmt.Errorf("store the new API key of client %s: %w", client, err)
	}
	k.CreatedAt = k.CreatedAt.UTC()
	return k, nil
}

// lockRef finds a client and locks its row for the transaction.
func lockRef(ctx context.Context, tx pgx.Tx, ref string) (id uuid.UUID, email string, err error) {
	if id, err = findClient(ctx, tx, ref); err != nil {
		return uuid.Nil, "", err
	}
	if err := tx.QueryRow(ctx, `SELECT email FROM clients WHERE id = $1 FOR UPDATE`, id).Scan(&email); err != nil {
		return uuid.Nil, "", fmt.Errorf("lock client %s: %w", id, err)
	}
	return id, email, nil
}

// KeyRequest asks for a new API key for a client.
type KeyRequest struct {
	Client string // its id or e-mail
	Actor  string // who asks: recorded as the key's created_by (and revoked_by of the keys it revokes)
	// RevokeOthers revokes the client's other live keys in the same
	// transaction: a rotation. Without it the client has one key more.
	RevokeOthers bool
}

// KeyCreated is what CreateKey did.
type KeyCreated struct {
	ClientID uuid.UUID `json:"client_id"`
	Email    string    `json:"email"`
	Key      NewKey    `json:"api_key"`
	Revoked  []Key     `json:"revoked"` // the keys it revoked, newest first; empty when none or when kept
}

// CreateKey makes a new API key for a client in one transaction that locks
// the client's row and, when asked, revokes the client's other live keys:
// from the commit on, those are refused and the new one works. The new
// key's secret is in the result only.
func CreateKey(ctx context.Context, d db.DB, req KeyRequest) (KeyCreated, error) {
	if err := checkActor(req.Actor); err != nil {
		return KeyCreated{}, err
	}
	return inTx(ctx, d, func(tx pgx.Tx, _ time.Time) (KeyCreated, error) {
		id, email, err := lockRef(ctx, tx, req.Client)
		if err != nil {
			return KeyCreated{}, err
		}
		out := KeyCreated{ClientID: id, Email: email, Revoked: []Key{}}
		if req.RevokeOthers {
			rows, err := tx.Query(ctx, `
				UPDATE api_keys SET revoked_at = now(), revoked_by = $2
				WHERE client_id = $1 AND revoked_at IS NULL
				RETURNING id, client_id, prefix, created_at, created_by, revoked_at, revoked_by`, id, req.Actor)
			if err != nil {
				return KeyCreated{}, fmt.Errorf("revoke the keys of client %s: %w", id, err)
			}
			if out.Revoked, err = pgx.CollectRows(rows, scanKey); err != nil {
				return KeyCreated{}, fmt.Errorf("revoke the keys of client %s: %w", id, err)
			}
			slices.SortFunc(out.Revoked, func(a, b Key) int { return b.CreatedAt.Compare(a.CreatedAt) })
		}
		if out.Key, err = insertKey(ctx, tx, id, req.Actor); err != nil {
			return KeyCreated{}, err
		}
		return out, nil
	})
}

// ErrNoKey is what the error of a key id that names none of the client's
// keys is (errors.Is).
var ErrNoKey = errors.New("no such API key")

// RevokeRequest asks to revoke one API key of a client.
type RevokeRequest struct {
	Client string    // its id or e-mail
	KeyID  uuid.UUID // api_keys.id, as ShowClient lists it
	Actor  string    // recorded as the key's revoked_by
}

// KeyRevoked is what RevokeKey did.
type KeyRevoked struct {
	Email string `json:"email"`
	Key   Key    `json:"api_key"`
	// AlreadyRevoked: the key was revoked before; nothing was changed and
	// Key says when and by whom.
	AlreadyRevoked bool `json:"already_revoked"`
}

// RevokeKey revokes one key of a client, under the client's row lock: from
// the commit on, the key is refused. A key revoked already is left as it
// is (AlreadyRevoked), so a retry is harmless. A key id that is not one of
// the client's keys is an exitcode.Usage error that is ErrNoKey.
func RevokeKey(ctx context.Context, d db.DB, req RevokeRequest) (KeyRevoked, error) {
	if err := checkActor(req.Actor); err != nil {
		return KeyRevoked{}, err
	}
	return inTx(ctx, d, func(tx pgx.Tx, _ time.Time) (KeyRevoked, error) {
		id, email, err := lockRef(ctx, tx, req.Client)
		if err != nil {
			return KeyRevoked{}, err
		}
		// The key's row is locked before it is read, so "already revoked"
		// is what it was when this transaction changed it.
		rows, err := tx.Query(ctx, `
			WITH old AS (
			    SELECT id, revoked_at IS NOT NULL AS already FROM api_keys
			    WHERE id = $2 AND client_id = $1 FOR UPDATE
			)
			UPDATE api_keys k SET revoked_at = coalesce(k.revoked_at, now()), revoked_by = coalesce(k.revoked_by, $3)
			FROM old WHERE k.id = old.id
			RETURNING k.id, k.client_id, k.prefix, k.created_at, k.created_by, k.revoked_at, k.revoked_by, old.already`,
			id, req.KeyID, req.Actor)
		if err != nil {
			return KeyRevoked{}, fmt.Errorf("revoke API key %s: %w", req.KeyID, err)
		}
		found, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (KeyRevoked, error) {
			r := KeyRevoked{Email: email}
			err := row.Scan(&r.Key.ID, &r.Key.ClientID, &r.Key.Prefix, &r.Key.CreatedAt, &r.Key.CreatedBy,
				&r.Key.RevokedAt, &r.Key.RevokedBy, &r.AlreadyRevoked)
			r.Key.CreatedAt, r.Key.RevokedAt = r.Key.CreatedAt.UTC(), utc(r.Key.RevokedAt)
			return r, err
		})
		if err != nil {
			return KeyRevoked{}, fmt.Errorf("revoke API key %s: %w", req.KeyID, err)
		}
		if len(found) == 0 {
			return KeyRevoked{}, usageErrorf(ErrNoKey, "client %s (%s) has no API key %s: see its keys with `cortexctl clients show %s`",
				email, id, req.KeyID, email)
		}
		return found[0], nil
	})
}
