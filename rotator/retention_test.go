package rotator

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
)

// hourSuffix compiles dir/app.log rotated hourly to a suffix without the
// date (%H), whose names repeat every day, in UTC.
func hourSuffix(t *testing.T, dir string) *pattern.Pattern {
	t.Helper()
	p, err := pattern.Compile(filepath.Join(dir, "app.log"), pattern.Options{When: "H", Suffix: "%H", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// With a suffix whose names repeat, retention keeps the files made last,
// by the period their creator recorded, never by the name: app.log.10.1 is
// a day older than app.log.11, which was just rotated.
func TestRetentionByRecordedPeriod(t *testing.T) {
	day1 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	for _, tc := range []struct {
		name  string
		codec *Codec
	}{
		{"plain", nil},
		{"compressed", DefaultCodec()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			needXattr(t, dir)
			pat := hourSuffix(t, dir)
			r, _ := newRot(t, pat)
			// Day 1: hours 09 and 10; day 2: hours 09, 10 and 11 (each
			// write rotates the file of the hour before).
			for _, at := range []time.Time{
				day1.Add(9*time.Hour + 30*time.Minute), day1.Add(10*time.Hour + 30*time.Minute),
				day2.Add(9*time.Hour + 30*time.Minute), day2.Add(10*time.Hour + 30*time.Minute),
				day2.Add(11*time.Hour + 30*time.Minute), day2.Add(12*time.Hour + 30*time.Minute),
			} {
				mustWrite(t, r, at.Format(time.RFC3339)+"\n", at)
			}
			ext := ""
			if tc.codec != nil {
				ext = tc.codec.Ext
			}
			wantDir(t, dir, "app.log", "app.log.09", "app.log.10", "app.log.09.1", "app.log.10.1", "app.log.11")
			now := day2.Add(12*time.Hour + 31*time.Minute)
			if tc.codec != nil {
				// Compressed by an earlier pass: the compressed files
				// carry the recorded period.
				NewKeeper(pat, Housekeeping{Codec: tc.codec}, t.Errorf, nil).Pass(bg, now)
				wantDir(t, dir, "app.log", "app.log.09"+ext, "app.log.10"+ext, "app.log.09.1"+ext, "app.log.10.1"+ext, "app.log.11"+ext)
			}
			k := NewKeeper(pat, Housekeeping{BackupCount: 2, Codec: tc.codec}, t.Errorf, nil)
			if again := k.Pass(bg, now); again {
				t.Errorf("Pass: again, want all done")
			}
			wantDir(t, dir, "app.log", "app.log.11"+ext, "app.log.10.1"+ext)
			if tc.codec == nil {
				wantFile(t, filepath.Join(dir, "app.log.11"), "2026-11-25T11:30:00Z\n")
				wantFile(t, filepath.Join(dir, "app.log.10.1"), "2026-11-25T10:30:00Z\n")
			}
		})
	}
}

// Files without a recorded period (rotlog did not make them, or the
// filesystem has no user xattrs) are ordered by the time in their names,
// and where the names do not tell it, by their last write.
func TestRetentionWithoutRecordedPeriod(t *testing.T) {
	day1 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	t.Run("by mtime", func(t *testing.T) {
		dir := t.TempDir()
		for name, mtime := range map[string]time.Time{
			"app.log.10.1": day1.Add(10*time.Hour + 59*time.Minute),
			"app.log.09":   day2.Add(9*time.Hour + 59*time.Minute),
			"app.log.11":   day2.Add(11*time.Hour + 59*time.Minute),
			"app.log.08.2": day1.Add(8*time.Hour + 59*time.Minute),
		} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			setMtime(t, p, mtime)
		}
		k := NewKeeper(hourSuffix(t, dir), Housekeeping{BackupCount: 2}, t.Errorf, nil)
		k.Pass(bg, day2.Add(12*time.Hour))
		wantDir(t, dir, "app.log.11", "app.log.09")
	})
	t.Run("by name, then variant", func(t *testing.T) {
		dir := t.TempDir()
		pat, err := pattern.Compile(filepath.Join(dir, "app.log"), pattern.Options{When: "D", Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"app.log.2026-11-22.1", "app.log.2026-11-23", "app.log.2026-11-23.1", "app.log.2026-11-21.3"} {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, []byte(name+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			setMtime(t, p, day2) // the same for all: the names decide
		}
		k := NewKeeper(pat, Housekeeping{BackupCount: 2}, t.Errorf, nil)
		k.Pass(bg, day2)
		wantDir(t, dir, "app.log.2026-11-23", "app.log.2026-11-23.1")
	})
}

// --max-age judges age by the now a Pass is given, never by the real clock:
// a rotated file is old when its period ended (or, if nothing tells the
// period, it was last written) longer than MaxAge before now.
func TestRetentionMaxAgeByNow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mtime time.Time // last write of app.log.10, a name without a date
		now   time.Time
		kept  bool
	}{
		// Long before the real clock: a day old by now, 25 years by the clock.
		{"young long ago", time.Date(2001, 1, 1, 10, 30, 0, 0, time.UTC), time.Date(2001, 1, 2, 10, 0, 0, 0, time.UTC), true},
		// Far after the real clock: three days old by now, in the future by the clock.
		{"old in the future", time.Date(2100, 1, 1, 10, 30, 0, 0, time.UTC), time.Date(2100, 1, 4, 12, 0, 0, 0, time.UTC), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "app.log.10")
			if err := os.WriteFile(p, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			setMtime(t, p, tc.mtime)
			k := NewKeeper(hourSuffix(t, dir), Housekeeping{MaxAge: 48 * time.Hour}, t.Errorf, nil)
			k.Pass(bg, tc.now)
			if tc.kept {
				wantDir(t, dir, "app.log.10")
			} else {
				wantDir(t, dir)
			}
		})
	}
	t.Run("recorded period", func(t *testing.T) {
		dir := t.TempDir()
		needXattr(t, dir)
		pat := hourSuffix(t, dir)
		r, _ := newRot(t, pat)
		at := time.Date(2100, 1, 1, 9, 30, 0, 0, time.UTC)
		mustWrite(t, r, "09\n", at)
		mustWrite(t, r, "10\n", at.Add(time.Hour))
		mustWrite(t, r, "11\n", at.Add(2*time.Hour))
		r.Close()
		// app.log.09's period ended at 10:00, app.log.10's at 11:00.
		k := NewKeeper(pat, Housekeeping{MaxAge: 48 * time.Hour}, t.Errorf, nil)
		k.Pass(bg, time.Date(2100, 1, 3, 10, 30, 0, 0, time.UTC))
		wantDir(t, dir, "app.log", "app.log.10")
	})
}
