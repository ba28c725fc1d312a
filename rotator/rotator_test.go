package rotator

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRecordedPeriod checks that the period an active file holds is the one
// its creator recorded, not the one its mtime suggests: two Rotators in one
// directory stand for two processes.
func TestRecordedPeriod(t *testing.T) {
	t.Parallel()

	// A line of period P written late (after the boundary) moves the file's
	// mtime into P+1; the file must still be rotated as P's.
	t.Run("late write", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		needXattr(t, dir)
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		a, _ := newRot(t, pat)
		b, _ := newRot(t, pat)

		mustWrite(t, a, "a old\n", t0)
		active := pat.Path(t0)
		setMtime(t, active, t1.Add(500*time.Millisecond))
		mustWrite(t, b, "b new\n", t1)

		wantFile(t, pat.RotatedName(pat.Start(t0)), "a old\n")
		wantFile(t, active, "b new\n")
		wantDir(t, dir, "app.log", "app.log.2026-11-25_12-00-00")
	})

	// A coarse kernel clock can stamp a file created just after a boundary
	// with a time before it; the file must not be rotated as the old period's.
	t.Run("coarse mtime", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		needXattr(t, dir)
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		a, _ := newRot(t, pat)
		b, _ := newRot(t, pat)

		mustWrite(t, a, "a\n", t1)
		active := pat.Path(t1)
		setMtime(t, active, t1.Add(-time.Millisecond))
		mustWrite(t, b, "b\n", t1.Add(10*time.Millisecond))

		wantFile(t, active, "a\nb\n")
		wantDir(t, dir, "app.log")
	})
}

// TestNumberedVariants checks that rotation never replaces a file: a taken
// rotated name gets the first free numbered variant, and every existing
// file keeps its content (guarantee 4).
func TestNumberedVariants(t *testing.T) {
	t.Parallel()
	const base = "app.log.2026-11-25_12-00-00"
	tests := []struct {
		name     string
		existing []string // rotated names present before rotation
		want     string   // where the file of P must go
	}{
		{"free", nil, base},
		{"base taken", []string{base}, base + ".1"},
		{"base and .1 taken", []string{base, base + ".1"}, base + ".2"},
		{"gap at .1", []string{base, base + ".2"}, base + ".1"},
		{"only .1 taken", []string{base + ".1"}, base},
		// A crash between link and unlink (the fallback of a no-replace
		// rename) leaves the file under both names: finish the rename.
		{"crash leftover", []string{"link"}, base},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pat := compile(t, filepath.Join(dir, "app.log"), "S")
			r, _ := newRot(t, pat)
			mustWrite(t, r, "mine\n", t0)
			if len(tt.existing) == 1 && tt.existing[0] == "link" {
				if err := os.Link(filepath.Join(dir, "app.log"), filepath.Join(dir, base)); err != nil {
					t.Fatal(err)
				}
				tt.existing = nil
			}
			for _, name := range tt.existing {
				if err := os.WriteFile(filepath.Join(dir, name), []byte("old "+name), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			mustWrite(t, r, "next\n", t1)

			wantFile(t, filepath.Join(dir, tt.want), "mine\n")
			wantFile(t, filepath.Join(dir, "app.log"), "next\n")
			for _, name := range tt.existing {
				wantFile(t, filepath.Join(dir, name), "old "+name)
			}
			wantDir(t, dir, append([]string{"app.log", tt.want}, tt.existing...)...)
		})
	}
}

// TestRotate checks forced rotation (SIGALRM): twice in one period gives
// the base name then .1, and an empty or missing file is left alone.
func TestRotate(t *testing.T) {
	t.Parallel()
	const base = "app.log.2026-11-25_12-00-00"

	t.Run("twice in one period", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		r, _ := newRot(t, pat)

		mustWrite(t, r, "one\n", t0)
		if err := r.Rotate(bg, t0.Add(100*time.Millisecond)); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		wantDir(t, dir, base)
		mustWrite(t, r, "two\n", t0.Add(200*time.Millisecond))
		if err := r.Rotate(bg, t0.Add(300*time.Millisecond)); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		mustWrite(t, r, "three\n", t0.Add(400*time.Millisecond))

		wantFile(t, filepath.Join(dir, base), "one\n")
		wantFile(t, filepath.Join(dir, base+".1"), "two\n")
		wantFile(t, filepath.Join(dir, "app.log"), "three\n")
		wantDir(t, dir, "app.log", base, base+".1")
	})

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		r, _ := newRot(t, pat)
		if err := r.Rotate(bg, t0); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		wantDir(t, dir)
	})

	t.Run("empty file made by Write", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		r, _ := newRot(t, pat)
		mustWrite(t, r, "", t0)
		if err := r.Rotate(bg, t0); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		wantDir(t, dir, "app.log")
		wantFile(t, filepath.Join(dir, "app.log"), "")
	})

	t.Run("empty foreign file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		if err := os.WriteFile(filepath.Join(dir, "app.log"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r, _ := newRot(t, pat)
		if err := r.Rotate(bg, t0); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		wantDir(t, dir, "app.log")
	})

	t.Run("template goes to a numbered variant", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "%Y%m%d-%H%M%S.log"), "S")
		r, _ := newRot(t, pat)
		mustWrite(t, r, "a\n", t0)
		if err := r.Rotate(bg, t0); err != nil {
			t.Fatalf("Rotate: %v", err)
		}
		mustWrite(t, r, "b\n", t0.Add(time.Millisecond))
		wantFile(t, filepath.Join(dir, "20261125-120000.log.1"), "a\n")
		wantFile(t, filepath.Join(dir, "20261125-120000.log"), "b\n")
		wantDir(t, dir, "20261125-120000.log", "20261125-120000.log.1")
	})
}

// TestRestart checks guarantee 7: a file rotlog did not create (no recorded
// period), last written in an earlier period, is rotated to that period's
// name before anything is written.
func TestRestart(t *testing.T) {
	t.Parallel()
	p0 := time.Date(2026, 11, 25, 10, 17, 3, 0, time.UTC) // in period 10:00 (when H)
	now := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	const rotated = "app.log.2026-11-25_10"

	setup := func(t *testing.T) (dir string, r *Rotator) {
		dir = t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "H")
		if err := os.WriteFile(filepath.Join(dir, "app.log"), []byte("foreign\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		setMtime(t, filepath.Join(dir, "app.log"), p0)
		r, _ = newRot(t, pat)
		return dir, r
	}

	t.Run("first Write", func(t *testing.T) {
		t.Parallel()
		dir, r := setup(t)
		mustWrite(t, r, "new\n", now)
		wantFile(t, filepath.Join(dir, rotated), "foreign\n")
		wantFile(t, filepath.Join(dir, "app.log"), "new\n")
		wantDir(t, dir, "app.log", rotated)
	})

	t.Run("Tick alone", func(t *testing.T) {
		t.Parallel()
		dir, r := setup(t)
		if _, err := r.Tick(bg, now); err != nil {
			t.Fatalf("Tick: %v", err)
		}
		wantFile(t, filepath.Join(dir, rotated), "foreign\n")
		wantDir(t, dir, rotated)
	})

	t.Run("foreign file of the current period is kept", func(t *testing.T) {
		t.Parallel()
		dir, r := setup(t)
		setMtime(t, filepath.Join(dir, "app.log"), now.Add(-time.Minute))
		mustWrite(t, r, "new\n", now)
		wantFile(t, filepath.Join(dir, "app.log"), "foreign\nnew\n")
		wantDir(t, dir, "app.log")
	})
}

// TestRightFile checks guarantee 3: lines go to the file of the period in
// which they were read.
func TestRightFile(t *testing.T) {
	t.Parallel()

	active := []struct {
		when    string
		at, at2 time.Time // in consecutive periods
		rotated string
	}{
		{"S", t0, t1, "app.log.2026-11-25_12-00-00"},
		{"H", t0.Add(59 * time.Minute), t0.Add(time.Hour), "app.log.2026-11-25_12"},
		{"D", t0, t0.Add(12 * time.Hour), "app.log.2026-11-25"},
	}
	for _, tt := range active {
		t.Run("active "+tt.when, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pat := compile(t, filepath.Join(dir, "app.log"), tt.when)
			r, _ := newRot(t, pat)
			mustWrite(t, r, "p1\n", tt.at)
			mustWrite(t, r, "p2\n", tt.at.Add(time.Nanosecond))
			mustWrite(t, r, "q1\n", tt.at2)
			mustWrite(t, r, "q2\n", tt.at2)
			wantFile(t, filepath.Join(dir, tt.rotated), "p1\np2\n")
			wantFile(t, filepath.Join(dir, "app.log"), "q1\nq2\n")
			wantDir(t, dir, "app.log", tt.rotated)
		})
	}

	t.Run("active in missing directory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "a", "b", "app.log"), "S")
		r, _ := newRot(t, pat)
		mustWrite(t, r, "p\n", t0)
		mustWrite(t, r, "q\n", t1)
		wantFile(t, filepath.Join(dir, "a", "b", "app.log.2026-11-25_12-00-00"), "p\n")
		wantFile(t, filepath.Join(dir, "a", "b", "app.log"), "q\n")
	})

	templates := []struct {
		name    string
		pattern string
		files   [2]string
	}{
		{"template", "logs/%Y%m%d-%H%M%S.log", [2]string{"logs/20261125-120000.log", "logs/20261125-120001.log"}},
		{"template directories", "logs/%Y/%m/%d/%H%M%S.log", [2]string{"logs/2026/11/25/120000.log", "logs/2026/11/25/120001.log"}},
	}
	for _, tt := range templates {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pat := compile(t, filepath.Join(dir, tt.pattern), "S")
			r, _ := newRot(t, pat)
			mustWrite(t, r, "p\n", t0)
			mustWrite(t, r, "q\n", t1)
			mustWrite(t, r, "r\n", t1.Add(999*time.Millisecond))
			wantFile(t, filepath.Join(dir, tt.files[0]), "p\n")
			wantFile(t, filepath.Join(dir, tt.files[1]), "q\nr\n")
			wantDir(t, filepath.Dir(filepath.Join(dir, tt.files[0])), filepath.Base(tt.files[0]), filepath.Base(tt.files[1]))
		})
	}
}

// TestIdleRelease checks guarantee 5: Tick at the boundary lets go of the
// finished file and rotates it, and not before.
func TestIdleRelease(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	r, _ := newRot(t, pat)
	active := filepath.Join(dir, "app.log")
	rotated := pat.RotatedName(pat.Start(t0))

	mustWrite(t, r, "a\n", t0.Add(100*time.Millisecond))
	if got, want := r.NextTick(), pat.Next(t0); !got.Equal(want) {
		t.Errorf("NextTick() = %s, want the boundary %s", got, want)
	}
	if !heldOpen(t, active) {
		t.Fatalf("%s is not open after Write", active)
	}

	if _, err := r.Tick(bg, t0.Add(999*time.Millisecond)); err != nil {
		t.Fatalf("Tick before the boundary: %v", err)
	}
	if !heldOpen(t, active) {
		t.Errorf("Tick before the boundary closed %s", active)
	}
	wantDir(t, dir, "app.log")

	if _, err := r.Tick(bg, t1.Add(200*time.Millisecond)); err != nil {
		t.Fatalf("Tick after the boundary: %v", err)
	}
	// Rotated at once, but kept open a while for lines read before the
	// boundary and written late: they still go to the old file.
	wantFile(t, rotated, "a\n")
	if !heldOpen(t, rotated) {
		t.Errorf("the old file was closed at once after the boundary")
	}
	mustWrite(t, r, "late\n", t1.Add(-time.Millisecond))
	wantFile(t, rotated, "a\nlate\n")
	if _, err := r.Tick(bg, t1.Add(lingerFor)); err != nil {
		t.Fatalf("Tick after the boundary: %v", err)
	}
	if heldOpen(t, rotated) || heldOpen(t, active) {
		t.Errorf("after Tick past the boundary the file is still open")
	}
	wantDir(t, dir, filepath.Base(rotated))
	if got, want := r.NextTick(), pat.Next(t1); !got.Equal(want) {
		t.Errorf("after Tick, NextTick() = %s, want %s", got, want)
	}

	// The next line opens a fresh file of the new period.
	mustWrite(t, r, "b\n", t1.Add(300*time.Millisecond))
	wantFile(t, active, "b\n")
}

// TestIdleReleaseTemplate checks that Tick at the boundary closes a
// template's file too.
func TestIdleReleaseTemplate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "%H%M%S.log"), "S")
	r, _ := newRot(t, pat)
	file := filepath.Join(dir, "120000.log")
	mustWrite(t, r, "a\n", t0)
	if _, err := r.Tick(bg, t0.Add(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if !heldOpen(t, file) {
		t.Errorf("Tick before the boundary closed %s", file)
	}
	if _, err := r.Tick(bg, t1.Add(lingerFor)); err != nil {
		t.Fatal(err)
	}
	if heldOpen(t, file) {
		t.Errorf("Tick after the boundary left %s open", file)
	}
	wantDir(t, dir, "120000.log")
}

// TestMovedAway checks that a file renamed by someone else (logrotate,
// an operator) is noticed by Tick, and dropped at once by Reopen.
func TestMovedAway(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		run  func(t *testing.T, r *Rotator)
	}{
		{"Tick after Write", func(t *testing.T, r *Rotator) {
			mustWrite(t, r, "a\n", t0)
			moveAway(t, r)
			if _, err := r.Tick(bg, t0.Add(500*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}},
		{"Tick after a handled Tick", func(t *testing.T, r *Rotator) {
			if _, err := r.Tick(bg, t0); err != nil { // handles the first NextTick
				t.Fatal(err)
			}
			mustWrite(t, r, "a\n", t0.Add(100*time.Millisecond))
			if _, err := r.Tick(bg, t0.Add(200*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			moveAway(t, r)
			if _, err := r.Tick(bg, t0.Add(500*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}},
		{"Reopen", func(t *testing.T, r *Rotator) {
			mustWrite(t, r, "a\n", t0)
			moveAway(t, r)
			r.Reopen()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pat := compile(t, filepath.Join(dir, "app.log"), "S")
			r, _ := newRot(t, pat)
			tt.run(t, r)
			if heldOpen(t, filepath.Join(dir, "moved")) {
				t.Errorf("the moved file is still open")
			}
			mustWrite(t, r, "b\n", t0.Add(600*time.Millisecond))
			wantFile(t, filepath.Join(dir, "moved"), "a\n")
			wantFile(t, filepath.Join(dir, "app.log"), "b\n")
			wantDir(t, dir, "app.log", "moved")
		})
	}
}

func moveAway(t *testing.T, r *Rotator) {
	t.Helper()
	active := r.pat.Path(t0)
	if err := os.Rename(active, filepath.Join(filepath.Dir(active), "moved")); err != nil {
		t.Fatal(err)
	}
}

// TestSymlink checks that rotlog never writes through a link planted at
// the path it writes.
func TestSymlink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pattern  string
		link     string // where the link is planted
		dangling bool   // the link points at a file that does not exist
	}{
		{"active", "app.log", "app.log", false},
		{"active dangling", "app.log", "app.log", true},
		{"template", "%Y%m%d.log", "20261125.log", false},
		{"template dangling", "%Y%m%d.log", "20261125.log", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			outside := filepath.Join(t.TempDir(), "precious")
			if !tt.dangling {
				if err := os.WriteFile(outside, []byte("precious\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			link := filepath.Join(dir, tt.link)
			if err := os.Symlink(outside, link); err != nil {
				t.Fatal(err)
			}
			// Planted in an earlier period, so that it looks like a file to
			// rotate, not one of the current period.
			ts := []unix.Timespec{unix.NsecToTimespec(t0.Add(-time.Hour).UnixNano()), unix.NsecToTimespec(t0.Add(-time.Hour).UnixNano())}
			if err := unix.UtimesNanoAt(unix.AT_FDCWD, link, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				t.Fatal(err)
			}
			pat := compile(t, filepath.Join(dir, tt.pattern), "S")
			r, _ := newRot(t, pat)

			n, err := r.Write(bg, []byte("line\n"), t0)
			if err == nil || n != 0 {
				t.Fatalf("Write through a symlink = %d, %v; want 0 and an error", n, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "symbolic link") && !strings.Contains(msg, "not a regular file") {
				t.Errorf("error %q does not say the path is a symbolic link", msg)
			}
			if tt.dangling {
				wantNoFile(t, outside)
			} else {
				wantFile(t, outside, "precious\n")
			}
			if fi, err := os.Lstat(filepath.Join(dir, tt.link)); err != nil || fi.Mode().Type() != fs.ModeSymlink {
				t.Errorf("the link was not left in place: %v, %v", fi, err)
			}
			wantDir(t, dir, tt.link) // no lock file left behind

			if !pat.Template() {
				if _, err := r.Tick(bg, t0.Add(500*time.Millisecond)); err == nil {
					t.Errorf("Tick with a symlink at the active path: no error")
				}
				wantDir(t, dir, tt.link)
			}
		})
	}
}

// TestAppendOnly checks that a file of the current period is appended to,
// never truncated or replaced.
func TestAppendOnly(t *testing.T) {
	t.Parallel()
	t.Run("active", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		first, _ := newRot(t, pat)
		mustWrite(t, first, "first\n", t0)
		first.Close()

		r, _ := newRot(t, pat)
		mustWrite(t, r, "second\n", t0.Add(500*time.Millisecond))
		mustWrite(t, r, "third\n", t0.Add(600*time.Millisecond))
		wantFile(t, filepath.Join(dir, "app.log"), "first\nsecond\nthird\n")
		wantDir(t, dir, "app.log")
	})
	t.Run("template", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "%Y%m%d.log"), "D")
		file := filepath.Join(dir, "20261125.log")
		if err := os.WriteFile(file, []byte("foreign\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		r, _ := newRot(t, pat)
		mustWrite(t, r, "mine\n", t0)
		wantFile(t, file, "foreign\nmine\n")
	})
}

// TestCreatedFileMode checks that created files get cfg.Mode &^ umask. It
// changes the process umask, so it must not run in parallel.
func TestCreatedFileMode(t *testing.T) {
	tests := []struct {
		umask int
		mode  fs.FileMode // 0 means the default, 0644
		want  fs.FileMode
	}{
		{0o022, 0, 0o644},
		{0o022, 0o666, 0o644},
		{0o077, 0o640, 0o600},
		{0o002, 0o664, 0o664},
		{0o000, 0o600, 0o600},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("mode %04o umask %03o", uint32(tt.mode), tt.umask), func(t *testing.T) {
			old := syscall.Umask(tt.umask)
			t.Cleanup(func() { syscall.Umask(old) })
			dir := t.TempDir()
			for _, p := range []string{"app.log", "%Y%m%d.log"} {
				pat := compile(t, filepath.Join(dir, p), "D")
				r, _ := newRot(t, pat, func(c *Config) { c.Mode = tt.mode })
				mustWrite(t, r, "x\n", t0)
				fi, err := os.Stat(pat.Path(t0))
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode(); got != tt.want {
					t.Errorf("%s: mode %v with Mode %v and umask %03o, want %v", p, got, tt.mode, tt.umask, tt.want)
				}
			}
		})
	}
}

// TestNoLockLeft checks that writing and rotating an active file leaves
// only log files behind.
func TestNoLockLeft(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	r, _ := newRot(t, pat)
	mustWrite(t, r, "a\n", t0)
	if _, err := r.Tick(bg, t1); err != nil {
		t.Fatal(err)
	}
	if err := r.Rotate(bg, t1); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, r, "b\n", t1)
	wantDir(t, dir, "app.log", "app.log.2026-11-25_12-00-00")
}

func BenchmarkWrite(b *testing.B) {
	dir := b.TempDir()
	pat := compile(b, filepath.Join(dir, "app.log"), "D")
	r, _ := newRot(b, pat)
	line := []byte("2026-11-25T12:00:00.000Z GET /index.html 200 1234 0.003\n")
	batch := bytes.Repeat(line, 4096/len(line)+1)[:4096]
	batch[len(batch)-1] = '\n'
	if _, err := r.Write(bg, batch, t0); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := r.Write(bg, batch, t0); err != nil {
			b.Fatal(err)
		}
		if i++; i%4096 == 0 {
			// Keep the file small; appends go on at the new end.
			b.StopTimer()
			if err := os.Truncate(pat.Path(t0), 0); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
	}
}

func BenchmarkStartNext(b *testing.B) {
	for _, when := range []string{"S", "H", "D"} {
		b.Run(when, func(b *testing.B) {
			pat := compile(b, "app.log", when)
			now := t0.Add(1234567 * time.Microsecond)
			b.ReportAllocs()
			for b.Loop() {
				_ = pat.Start(now)
				_ = pat.Next(now)
			}
		})
	}
}

// TestLateOpenAfterRotation checks guarantee 3 for a pipeline that opens
// the target only after a boundary although its line was read before it:
// another pipeline already rotated the old file and made the next one, so
// the line goes to the old period's rotated file, not the new one.
func TestLateOpenAfterRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	a, _ := newRot(t, pat)
	b, _ := newRot(t, pat)
	late, _ := newRot(t, pat)
	mustWrite(t, a, "a, period P\n", t0)
	mustWrite(t, b, "b, period P+1\n", t1)
	mustWrite(t, late, "late, read in P\n", t1.Add(-time.Millisecond))
	wantFile(t, pat.RotatedName(pat.Start(t0)), "a, period P\nlate, read in P\n")
	wantFile(t, filepath.Join(dir, "app.log"), "b, period P+1\n")
	// Its next line, read in P+1, goes to the new file.
	mustWrite(t, late, "late, now in P+1\n", t1.Add(time.Millisecond))
	wantFile(t, filepath.Join(dir, "app.log"), "b, period P+1\nlate, now in P+1\n")
}

// A period no line was written in before the next period's file was made
// (every pipeline stalled across the boundary) still gets its file: the
// late lines read in it make that file under its rotated name, rather than
// going to the current file. A clock that shows the next period begun
// tells them late from a clock stepped back.
func TestLatePeriodWithoutFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	now := func() time.Time { return t1.Add(100 * time.Millisecond) }
	withClock := func(c *Config) { c.Now = now }
	b, _ := newRot(t, pat, withClock)
	late1, _ := newRot(t, pat, withClock)
	late2, _ := newRot(t, pat, withClock)
	mustWrite(t, b, "b, period P+1\n", t1)
	mustWrite(t, late1, "late1, read in P\n", t1.Add(-2*time.Millisecond))
	mustWrite(t, late2, "late2, read in P\n", t1.Add(-time.Millisecond))
	rotated := pat.RotatedName(pat.Start(t0))
	wantFile(t, rotated, "late1, read in P\nlate2, read in P\n")
	wantFile(t, filepath.Join(dir, "app.log"), "b, period P+1\n")
	if st, ok := decodeStart(newMeta(nil, nil).get(rotated, startAttr)); !ok || !st.Equal(pat.Start(t0)) {
		t.Errorf("%s records period %v, want %v", rotated, st, pat.Start(t0))
	}
	// Their next lines, read in P+1, go to the current file.
	mustWrite(t, late1, "late1, now in P+1\n", t1.Add(time.Millisecond))
	wantFile(t, filepath.Join(dir, "app.log"), "b, period P+1\nlate1, now in P+1\n")
	wantDir(t, dir, "app.log", filepath.Base(rotated))
}

// A line read before a boundary and written after the active file was
// rotated, but before any line of the new period made the next file, goes
// to its period's rotated file: the clock tells it late. Without that it
// would make the active file again for a finished period, which would then
// be rotated a second time, as a numbered variant.
func TestLateLineBeforeNextFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	withClock := func(c *Config) { c.Now = func() time.Time { return t1.Add(100 * time.Millisecond) } }
	a, _ := newRot(t, pat, withClock)
	b, _ := newRot(t, pat, withClock)
	late, _ := newRot(t, pat, withClock)
	mustWrite(t, a, "a, period P\n", t0)
	a.Close()
	if _, err := b.Tick(bg, t0); err != nil { // the first Tick
		t.Fatal(err)
	}
	if _, err := b.Tick(bg, t1); err != nil { // the boundary: rotates
		t.Fatal(err)
	}
	rotated := pat.RotatedName(pat.Start(t0))
	wantDir(t, dir, filepath.Base(rotated))
	mustWrite(t, late, "late, read in P\n", t1.Add(-time.Millisecond))
	wantFile(t, rotated, "a, period P\nlate, read in P\n")
	wantDir(t, dir, filepath.Base(rotated))
	// A line read after the boundary makes the active file, of P+1.
	mustWrite(t, late, "late, now in P+1\n", t1.Add(time.Millisecond))
	wantFile(t, filepath.Join(dir, "app.log"), "late, now in P+1\n")
}
