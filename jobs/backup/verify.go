package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"github.com/cortexlayer/cortexctl/db"
	"github.com/cortexlayer/cortexctl/internal/exitcode"
	"github.com/cortexlayer/cortexctl/internal/objstore"
)

// Verification is what `db verify` found, also stored beside the backup
// (verified.json) for `db backups`.
type Verification struct {
	ID         string       `json:"id"`
	At         time.Time    `json:"at"`
	OK         bool         `json:"ok"`
	Drill      bool         `json:"drill"`
	Problems   []string     `json:"problems"`
	Size       int64        `json:"size"`
	SHA256     string       `json:"sha256"`
	TOCEntries int          `json:"toc_entries"`
	Tables     []TableCheck `json:"tables,omitempty"` // with --drill
	RestoreMS  int64        `json:"restore_ms,omitempty"`
	Manifest   *Manifest    `json:"manifest,omitempty"`
}

// TableCheck compares one table's rows after a drill restore with the
// count recorded at backup time.
type TableCheck struct {
	Table    string `json:"table"`
	Recorded int64  `json:"recorded"`
	Restored int64  `json:"restored"`
}

func (v *Verification) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !slices.Contains(v.Problems, msg) {
		v.Problems = append(v.Problems, msg)
	}
	v.OK = false
}

// Pick resolves "latest" (or "") to the newest valid backup, else finds id.
func Pick(ctx context.Context, store objstore.Store, id string) (Manifest, error) {
	backups, _, err := List(ctx, store)
	if err != nil {
		return Manifest{}, err
	}
	for _, b := range backups {
		switch {
		case (id == "" || id == "latest") && b.Valid:
			return b.Manifest, nil
		case b.Manifest.ID == id || strings.TrimSuffix(id, "/") == b.Manifest.ID:
			if !b.Valid {
				return b.Manifest, exitcode.Errorf(exitcode.Failed, "backup %s is not valid: %s", b.Manifest.ID, b.Problem)
			}
			return b.Manifest, nil
		}
	}
	if id == "" || id == "latest" {
		return Manifest{}, exitcode.Errorf(exitcode.Failed, "no valid backup in %s", store)
	}
	return Manifest{}, exitcode.Errorf(exitcode.Usage, "no backup %q in %s: `cortexctl db backups` lists them", id, store)
}

// ReadIdentities reads age identities (AGE-SECRET-KEY-1…) from a file.
func ReadIdentities(file string) ([]age.Identity, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "--identity: %v", err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Usage, "--identity %s: %v (want an age identity file, from age-keygen)", file, err)
	}
	return ids, nil
}

// Archive is a backup's pg_dump archive being read from the store: the
// stored bytes are hashed and counted as they arrive, decrypted when
// needed. Check, once the reader is drained, compares both with the
// manifest.
type Archive struct {
	io.Reader
	body         io.Closer
	stored, dump *hashCount
	m            Manifest
}

// hashCount is the SHA-256 and the length of what is written to it.
type hashCount struct {
	h hash.Hash
	n int64
}

func newHashCount() *hashCount { return &hashCount{h: sha256.New()} }

func (h *hashCount) Write(b []byte) (int, error) { h.n += int64(len(b)); return h.h.Write(b) }
func (h *hashCount) sum() string                 { return hex.EncodeToString(h.h.Sum(nil)) }

// OpenArchive opens m's dump for reading, decrypting it with identities
// when it is encrypted (none given for an encrypted backup: exit 2).
func OpenArchive(ctx context.Context, store objstore.Store, m Manifest, identities []age.Identity) (*Archive, error) {
	if m.Encrypted && len(identities) == 0 {
		return nil, exitcode.Errorf(exitcode.Usage, "backup %s is encrypted to %s: pass --identity FILE with the matching age secret key", m.ID, strings.Join(m.Recipients, ", "))
	}
	rc, _, err := store.Get(ctx, m.DumpKey)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.DumpKey, err)
	}
	a := &Archive{body: rc, stored: newHashCount(), dump: newHashCount(), m: m}
	plain := io.Reader(io.TeeReader(rc, a.stored))
	if m.Encrypted {
		if plain, err = age.Decrypt(plain, identities...); err != nil {
			rc.Close()
			return nil, exitcode.Errorf(exitcode.Failed, "decrypt %s: %v (is --identity the key the backup was encrypted to?)", m.DumpKey, err)
		}
	}
	a.Reader = io.TeeReader(plain, a.dump)
	return a, nil
}

// Close drains nothing; it releases the download.
func (a *Archive) Close() error { return a.body.Close() }

// Drain reads what is left, so Check sees every byte.
func (a *Archive) Drain() error {
	_, err := io.Copy(io.Discard, a.Reader)
	return err
}

// Check compares what was read with the manifest: size and SHA-256 of the
// stored object, and of the dump inside it.
func (a *Archive) Check(v *Verification) {
	v.Size, v.SHA256 = a.stored.n, a.stored.sum()
	if a.stored.n != a.m.Size {
		v.fail("size: %d bytes in the store, the manifest says %d", a.stored.n, a.m.Size)
	}
	if got := a.stored.sum(); got != a.m.SHA256 {
		v.fail("sha256 of %s is %s, the manifest says %s: the object is corrupted or was replaced", a.m.DumpKey, got, a.m.SHA256)
	}
	if a.m.Encrypted && a.dump.sum() != a.m.DumpSHA256 {
		v.fail("sha256 of the decrypted dump is %s, the manifest says %s", a.dump.sum(), a.m.DumpSHA256)
	}
}

// Verify downloads m's dump, checks it against the manifest and reads its
// table of contents back; with drill (a connection string to a server where
// a scratch database may be created), it restores into a new scratch
// database, compares each table's rows with the manifest's counts, and
// drops the scratch database. A failed check is in v.Problems and makes
// the error exitcode.Failed.
func Verify(ctx context.Context, store objstore.Store, tools Tools, m Manifest, identities []age.Identity, drill *db.Pool) (Verification, error) {
	v := Verification{ID: m.ID, OK: true, Drill: drill != nil, Problems: []string{}, Manifest: &m}
	a, err := OpenArchive(ctx, store, m, identities)
	if err != nil {
		return v, err
	}
	defer a.Close()
	if drill == nil {
		out, err := pgRestore(ctx, tools, a, "", "--list")
		v.TOCEntries = countTOC(out)
		if err != nil {
			v.fail("pg_restore --list cannot read the archive: %v: %s", err, strings.TrimSpace(out))
		} else if v.TOCEntries != m.TOCEntries {
			v.fail("the archive lists %d entries, the manifest says %d", v.TOCEntries, m.TOCEntries)
		}
	} else if err := drillRestore(ctx, tools, a, m, *drill.Config().ConnConfig, &v); err != nil {
		return v, err
	}
	if err := a.Drain(); err != nil {
		v.fail("reading %s: %v", m.DumpKey, err)
	}
	a.Check(&v)
	if !v.OK {
		return v, exitcode.Errorf(exitcode.Failed, "backup %s failed verification: %s", m.ID, strings.Join(v.Problems, "; "))
	}
	return v, nil
}

// pgRestore runs pg_restore args with the archive on stdin, returning its
// output; pg_restore may stop reading early (--list), so what it leaves is
// not an error here (Drain reads it).
func pgRestore(ctx context.Context, tools Tools, archive io.Reader, password string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, tools.PgRestore, args...)
	if password != "" {
		cmd.Env = append(os.Environ(), "PGPASSWORD="+password)
	}
	var out tail
	out.max = 1 << 22
	cmd.Stdout, cmd.Stderr = &out, &out
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start pg_restore: %w", err)
	}
	_, copyErr := io.Copy(&ignoreAfterError{w: in}, archive)
	_ = in.Close()
	err = cmd.Wait()
	if copyErr != nil && err == nil {
		err = copyErr
	}
	return out.String(), err
}

func countTOC(list string) int {
	n := 0
	for _, l := range strings.Split(list, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, ";") {
			n++
		}
	}
	return n
}

// drillRestore restores into a new scratch database on target's server,
// compares row counts and always drops the scratch database.
func drillRestore(ctx context.Context, tools Tools, a *Archive, m Manifest, target pgx.ConnConfig, v *Verification) error {
	admin, err := pgx.ConnectConfig(ctx, &target)
	if err != nil {
		return exitcode.New(exitcode.Unavailable, fmt.Errorf("drill: connect to %s@%s:%d/%s: %w", target.User, target.Host, target.Port, target.Database, err))
	}
	defer admin.Close(context.WithoutCancel(ctx))
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	scratch := "cortexctl_drill_" + hex.EncodeToString(suffix)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{scratch}.Sanitize()); err != nil {
		return exitcode.Errorf(exitcode.Config, "drill: create the scratch database %s: %v (the role needs CREATEDB)", scratch, err)
	}
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = admin.Exec(dropCtx, "DROP DATABASE IF EXISTS "+pgx.Identifier{scratch}.Sanitize()+" WITH (FORCE)")
	}()
	sc := target.Copy()
	sc.Database = scratch
	start := time.Now()
	out, err := pgRestore(ctx, tools, a, sc.Password, "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--dbname="+libpqConn(sc))
	v.RestoreMS = time.Since(start).Milliseconds()
	if err != nil {
		v.fail("restore into a scratch database failed: %v: %s", err, strings.TrimSpace(out))
		return nil
	}
	conn, err := pgx.ConnectConfig(ctx, sc)
	if err != nil {
		return exitcode.New(exitcode.Unavailable, fmt.Errorf("drill: connect to %s: %w", scratch, err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	got, err := countRows(ctx, tx)
	if err != nil {
		return fmt.Errorf("drill: count rows: %w", err)
	}
	var names []string
	for name := range m.Tables {
		names = append(names, name)
	}
	for name := range got {
		if _, ok := m.Tables[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		want, recorded := m.Tables[name]
		have, restored := got[name]
		v.Tables = append(v.Tables, TableCheck{Table: name, Recorded: want, Restored: have})
		switch {
		case !restored:
			v.fail("table %s (%d rows at backup time) is missing after the restore", name, want)
		case !recorded:
			v.fail("table %s is in the restore but not in the manifest", name)
		case want != have:
			v.fail("table %s: %d rows restored, %d recorded at backup time", name, have, want)
		}
	}
	return nil
}

// libpqConn renders a pgx connection config for pg_restore --dbname,
// without its password (that goes through PGPASSWORD, set by the caller's
// environment when needed).
func libpqConn(c *pgx.ConnConfig) string {
	s := fmt.Sprintf("host=%s port=%d user=%s dbname=%s", c.Host, c.Port, c.User, c.Database)
	if c.TLSConfig != nil {
		s += " sslmode=require"
	}
	return s
}

// RecordVerification stores v beside its backup for `db backups`.
func RecordVerification(ctx context.Context, store objstore.Store, v Verification) error {
	v.Manifest = nil
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = store.Put(ctx, VerifiedKey(v.ID), bytes.NewReader(append(body, '\n')), objstore.PutOptions{ContentType: "application/json"})
	return err
}

// ReadVerification reads the last recorded verification of a backup.
func ReadVerification(ctx context.Context, store objstore.Store, id string) (Verification, error) {
	rc, _, err := store.Get(ctx, VerifiedKey(id))
	if err != nil {
		return Verification{}, err
	}
	defer rc.Close()
	var v Verification
	if err := json.NewDecoder(io.LimitReader(rc, 1<<20)).Decode(&v); err != nil {
		return Verification{}, errors.New("unreadable verified.json")
	}
	return v, nil
}
