package backup

import (
	"cmp"
	"fmt"
	"path"
	"regexp"
	"slices"
	"time"

	"github.com/cortexlayer/cortexctl/internal/objstore"
)

// FormatVersion is the manifest format this cortexctl writes and reads.
const FormatVersion = 1

// Object names inside one backup's directory.
const (
	manifestName  = "manifest.json"
	dumpName      = "dump.pgcustom"
	encryptedName = "dump.pgcustom.age"
	verifiedName  = "verified.json" // written by `db verify`
)

// Manifest describes one backup. It is written last, beside the dump: a
// backup exists only once its manifest does, and a manifest is written only
// after pg_dump exited 0, the archive's table of contents was read back and
// the upload completed.
type Manifest struct {
	FormatVersion    int              `json:"format_version"`
	ID               string           `json:"id"` // the backup's directory, e.g. 20261127T020000Z-1a2b3c4d
	Database         string           `json:"database"`
	SystemIdentifier string           `json:"system_identifier,omitempty"` // pg_control's, when the role may read it
	ServerVersion    string           `json:"server_version"`
	PgDumpVersion    string           `json:"pg_dump_version"`
	CortexctlVersion string           `json:"cortexctl_version"`
	RunID            string           `json:"run_id"`
	StartedAt        time.Time        `json:"started_at"`
	FinishedAt       time.Time        `json:"finished_at"`
	DumpKey          string           `json:"dump_key"` // relative to the store's prefix
	Size             int64            `json:"size"`     // bytes stored
	SHA256           string           `json:"sha256"`   // of the bytes stored
	DumpSize         int64            `json:"dump_size"`
	DumpSHA256       string           `json:"dump_sha256"` // of pg_dump's output, before encryption
	Encrypted        bool             `json:"encrypted"`
	Recipients       []string         `json:"recipients"` // age public keys, when encrypted
	TOCEntries       int              `json:"toc_entries"`
	Snapshot         string           `json:"snapshot"`
	Tables           map[string]int64 `json:"tables"` // rows per table, read in the dump's snapshot
}

// BackupID names a backup by its start (UTC, to the second) and its run.
func BackupID(started time.Time, runID string) string {
	return started.UTC().Format("20060102T150405Z") + "-" + runID[:8]
}

// Keys of one backup.
func ManifestKey(id string) string { return path.Join(id, manifestName) }

// VerifiedKey is where `db verify` records its last result for a backup.
func VerifiedKey(id string) string { return path.Join(id, verifiedName) }

func DumpKey(id string, encrypted bool) string {
	if encrypted {
		return path.Join(id, encryptedName)
	}
	return path.Join(id, dumpName)
}

// ours matches the keys cortexctl writes; anything else under the prefix is
// foreign and never deleted.
var ours = regexp.MustCompile(`^(\d{8}T\d{6}Z-[0-9a-f]{8})/(manifest\.json|dump\.pgcustom|dump\.pgcustom\.age|verified\.json)$`)

// Backup is one manifest found in the store, and whether its dump is there
// as the manifest says.
type Backup struct {
	Manifest Manifest `json:"manifest"`
	Valid    bool     `json:"valid"`
	Problem  string   `json:"problem,omitempty"` // why it is not valid
}

// Check marks a backup valid when its dump object exists with the size the
// manifest recorded.
func Check(m Manifest, objects []objstore.Object) Backup {
	b := Backup{Manifest: m}
	i := slices.IndexFunc(objects, func(o objstore.Object) bool { return o.Key == m.DumpKey })
	switch {
	case m.FormatVersion != FormatVersion:
		b.Problem = fmt.Sprintf("manifest format %d, this cortexctl reads %d", m.FormatVersion, FormatVersion)
	case i < 0:
		b.Problem = "its dump " + m.DumpKey + " is missing"
	case objects[i].Size != m.Size:
		b.Problem = fmt.Sprintf("its dump is %d bytes, the manifest says %d", objects[i].Size, m.Size)
	default:
		b.Valid = true
	}
	return b
}

// Retention is what a retention pass keeps and deletes, and why.
type Retention struct {
	Keep    []string   `json:"keep"`    // backup ids
	Delete  []Deletion `json:"delete"`  // whole backups, manifest last
	Orphans []Orphan   `json:"orphans"` // our objects that no manifest names
	Foreign []string   `json:"foreign"` // keys cortexctl did not write: never deleted
}

// Deletion is one backup to delete: its keys, the manifest last.
type Deletion struct {
	ID     string   `json:"id"`
	Keys   []string `json:"keys"`
	Reason string   `json:"reason"`
}

// Orphan is an object of ours that no manifest names: an aborted or failed
// backup's dump. It is deleted only once it is older than OrphanAge, so a
// backup still being written is never touched.
type Orphan struct {
	Key      string    `json:"key"`
	Modified time.Time `json:"modified"`
	Delete   bool      `json:"delete"`
}

// OrphanAge is how old an orphan must be before retention removes it.
const OrphanAge = 24 * time.Hour

// PlanRetention decides, from the store's objects and the backups read from
// its manifests, what to delete: a backup older than retain, unless it is
// one of the keepMin newest valid backups. Valid backups newer than retain
// and the keepMin newest valid ones are kept whatever their age, so
// retention never deletes the last good backups; an invalid backup never
// counts toward keepMin.
func PlanRetention(objects []objstore.Object, backups []Backup, now time.Time, retain time.Duration, keepMin int) Retention {
	var r Retention
	named := map[string]bool{}
	sorted := slices.Clone(backups)
	slices.SortFunc(sorted, func(a, b Backup) int {
		return cmp.Or(b.Manifest.StartedAt.Compare(a.Manifest.StartedAt), cmp.Compare(b.Manifest.ID, a.Manifest.ID))
	})
	exists := map[string]bool{}
	for _, o := range objects {
		exists[o.Key] = true
	}
	valid := 0
	for _, b := range sorted {
		m := b.Manifest
		named[ManifestKey(m.ID)], named[m.DumpKey], named[VerifiedKey(m.ID)] = true, true, true
		age := now.Sub(m.StartedAt)
		switch {
		case b.Valid && valid < keepMin:
			valid++
			r.Keep = append(r.Keep, m.ID)
		case age <= retain:
			if b.Valid {
				valid++
			}
			r.Keep = append(r.Keep, m.ID)
		default:
			reason := fmt.Sprintf("started %s ago, older than --retain %s", age.Round(time.Minute), retain)
			if !b.Valid {
				reason += "; invalid: " + b.Problem
			}
			keys := []string{m.DumpKey}
			if exists[VerifiedKey(m.ID)] {
				keys = append(keys, VerifiedKey(m.ID))
			}
			r.Delete = append(r.Delete, Deletion{ID: m.ID, Keys: append(keys, ManifestKey(m.ID)), Reason: reason})
		}
	}
	for _, o := range objects {
		switch {
		case named[o.Key]:
		case ours.MatchString(o.Key):
			r.Orphans = append(r.Orphans, Orphan{Key: o.Key, Modified: o.Modified, Delete: now.Sub(o.Modified) > OrphanAge})
		default:
			r.Foreign = append(r.Foreign, o.Key)
		}
	}
	return r
}

// IsManifestKey reports whether key is one of our manifests.
func IsManifestKey(key string) bool {
	m := ours.FindStringSubmatch(key)
	return m != nil && m[2] == manifestName
}
