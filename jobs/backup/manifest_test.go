package backup_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cortexlayer/cortexctl/internal/objstore"
	"github.com/cortexlayer/cortexctl/jobs/backup"
)

var now = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

// stored makes a backup started daysAgo days before now, with its objects.
func stored(daysAgo int, valid bool) (backup.Backup, []objstore.Object) {
	started := now.Add(-time.Duration(daysAgo)*24*time.Hour - time.Minute)
	id := backup.BackupID(started, fmt.Sprintf("%08x", daysAgo)+"-run")
	m := backup.Manifest{FormatVersion: backup.FormatVersion, ID: id, StartedAt: started, DumpKey: backup.DumpKey(id, false), Size: 100}
	objs := []objstore.Object{{Key: backup.ManifestKey(id), Size: 10, Modified: started}}
	if valid {
		objs = append(objs, objstore.Object{Key: m.DumpKey, Size: 100, Modified: started})
	}
	return backup.Check(m, objs), objs
}

func plan(ages []int, invalid map[int]bool, extra ...objstore.Object) backup.Retention {
	var backups []backup.Backup
	var objects []objstore.Object
	for _, d := range ages {
		b, objs := stored(d, !invalid[d])
		backups = append(backups, b)
		objects = append(objects, objs...)
	}
	return backup.PlanRetention(append(objects, extra...), backups, now, 7*24*time.Hour, 3)
}

func TestRetention(t *testing.T) {
	t.Parallel()
	var days []int
	for d := 1; d <= 20; d++ {
		days = append(days, d)
	}
	r := plan(days, nil)
	require.Len(t, r.Keep, 6, "1 to 6 days (and a minute) old are within --retain 168h; 7 days and a minute is not")
	require.Len(t, r.Delete, 14)
	for _, d := range r.Delete {
		require.Equal(t, d.Keys[len(d.Keys)-1], backup.ManifestKey(d.ID), "the manifest goes last")
		require.Contains(t, d.Reason, "older than --retain 168h0m0s")
	}

	// Every backup older than the window: the newest --keep-min survive.
	r = plan([]int{30, 10, 20, 40, 50}, nil)
	require.Len(t, r.Keep, 3)
	require.Len(t, r.Delete, 2)
	kept, _ := stored(10, true)
	require.Equal(t, kept.Manifest.ID, r.Keep[0], "newest first")

	// An invalid backup never counts toward --keep-min.
	r = plan([]int{10, 11, 12, 13}, map[int]bool{10: true})
	require.Len(t, r.Keep, 3)
	require.Len(t, r.Delete, 1)
	gone, _ := stored(10, false)
	require.Equal(t, gone.Manifest.ID, r.Delete[0].ID, "the newest is invalid: the next three valid ones are kept")
	require.Contains(t, r.Delete[0].Reason, "invalid: its dump")

	// Foreign objects are never deleted; our orphans only after a day.
	r = plan([]int{1}, nil,
		objstore.Object{Key: "notes.txt", Modified: now.Add(-100 * 24 * time.Hour)},
		objstore.Object{Key: "20260101T000000Z-deadbeef/something-else", Modified: now.Add(-100 * 24 * time.Hour)},
		objstore.Object{Key: "20261126T000000Z-0badf00d/dump.pgcustom", Modified: now.Add(-26 * time.Hour)},
		objstore.Object{Key: "20261127T015000Z-0badf00d/dump.pgcustom.age", Modified: now.Add(-10 * time.Minute)},
	)
	require.Equal(t, []string{"notes.txt", "20260101T000000Z-deadbeef/something-else"}, r.Foreign)
	require.Len(t, r.Orphans, 2)
	require.True(t, r.Orphans[0].Delete, "an aborted dump from yesterday goes")
	require.False(t, r.Orphans[1].Delete, "one from ten minutes ago may still be being written")
	require.Empty(t, r.Delete)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	b, objs := stored(1, true)
	require.True(t, backup.Check(b.Manifest, objs).Valid)
	objs[1].Size = 99
	require.Contains(t, backup.Check(b.Manifest, objs).Problem, "its dump is 99 bytes, the manifest says 100")
	require.Contains(t, backup.Check(b.Manifest, objs[:1]).Problem, "is missing")
	m := b.Manifest
	m.FormatVersion = 9
	require.Contains(t, backup.Check(m, objs).Problem, "manifest format 9")
}

func TestParseToolVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		out     string
		major   int
		version string
		ok      bool
	}{
		{"pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n", 15, "15.20", true},
		{"pg_dump (PostgreSQL) 17.2\n", 17, "17.2", true},
		{"pg_dump (PostgreSQL) 9.6.24\n", 9, "9.6", true},
		{"pg_dump (PostgreSQL) 18devel\n", 18, "18", true},
		{"something else", 0, "", false},
	} {
		major, version, ok := backup.ParseToolVersion(tc.out)
		require.Equal(t, tc.ok, ok, tc.out)
		require.Equal(t, tc.major, major, tc.out)
		require.Equal(t, tc.version, version, tc.out)
	}
}

func TestFindToolsRefusesAnOldPgDump(t *testing.T) {
	t.Parallel()
	_, err := backup.FindTools(t.Context(), 99, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "no pg_dump of major version 99 or newer (the server's): found 15.")
	tools, err := backup.FindTools(t.Context(), 15, backup.DefaultSearchDirs())
	require.NoError(t, err)
	require.Equal(t, 15, tools.Major)
}
