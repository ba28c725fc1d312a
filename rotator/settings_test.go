package rotator

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
)

// Pipelines whose zones do the same agree, whatever the zones are called;
// pipelines whose zones cut periods differently are refused.
func TestCheckSettingsZones(t *testing.T) {
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	tests := []struct {
		name        string
		there, here *time.Location
		conflict    string // "" for none
	}{
		{"UTC, Etc/UTC", time.UTC, load("Etc/UTC"), ""},
		{"Etc/UTC, UTC", load("Etc/UTC"), time.UTC, ""},
		{"loaded UTC, UTC", load("UTC"), time.UTC, ""},
		{"Asia/Calcutta, Asia/Kolkata", load("Asia/Calcutta"), load("Asia/Kolkata"), ""},
		{"New York, UTC", load("America/New_York"), time.UTC, "zone America/New_York there, UTC here"},
		{"Etc/UTC, New York", load("Etc/UTC"), load("America/New_York"), "zone Etc/UTC there, America/New_York here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			needXattr(t, dir)
			path := filepath.Join(dir, "app.log")
			compileIn := func(loc *time.Location) *pattern.Pattern {
				p, err := pattern.Compile(path, pattern.Options{When: "D", Location: loc})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
			first, _ := newRot(t, compileIn(tc.there))
			mustWrite(t, first, "first\n", t0) // holds the file open
			second, _ := newRot(t, compileIn(tc.here))
			err := second.CheckSettings(context.Background())
			switch {
			case tc.conflict == "" && err != nil:
				t.Errorf("CheckSettings: %v, want no conflict", err)
			case tc.conflict != "" && (!errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), "("+tc.conflict+")")):
				t.Errorf("CheckSettings: %v, want a conflict (%s)", err, tc.conflict)
			}
			// Once the first has let go, new settings are welcome.
			first.Close()
			if err := second.CheckSettings(context.Background()); err != nil {
				t.Errorf("CheckSettings with nobody writing: %v", err)
			}
		})
	}
}

// CheckSettings probes for writers with an exclusive flock; it makes that
// probe holding the rotation lock, so that the file it probes cannot be
// rotated meanwhile and a late line's reopen of the rotated file (which
// takes its shared flock without waiting) never meets the probe.
func TestCheckSettingsTakesLock(t *testing.T) {
	dir := t.TempDir()
	needXattr(t, dir)
	pat := compile(t, filepath.Join(dir, "app.log"), "D")
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	first, _ := newRot(t, pat)
	mustWrite(t, first, "first\n", t0)

	unlock, err := (&Lock{Path: filepath.Join(dir, "app.log"+LockSuffix), Timeout: time.Minute}).Acquire(bg)
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan struct{})
	var once sync.Once
	second, _ := newRot(t, pat, func(c *Config) {
		c.Verbosef = func(format string, args ...any) {
			if strings.Contains(fmt.Sprintf(format, args...), "is held; waiting") {
				once.Do(func() { close(waiting) })
			}
		}
	})
	done := make(chan error, 1)
	go func() { done <- second.CheckSettings(bg) }()
	select {
	case err := <-done:
		t.Fatalf("CheckSettings returned (%v) while the rotation lock was held", err)
	case <-waiting:
	}
	unlock()
	if err := <-done; err != nil {
		t.Errorf("CheckSettings: %v", err)
	}
}
