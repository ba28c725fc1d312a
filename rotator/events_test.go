package rotator

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestTickEvents checks that Tick says what happened since the previous
// Tick: a boundary, and every rotation, whether a Write, Rotate or the Tick
// itself did it.
func TestTickEvents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	r, _ := newRot(t, pat)
	tick := func(now time.Time, want Events) {
		t.Helper()
		ev, err := r.Tick(bg, now)
		if err != nil {
			t.Fatal(err)
		}
		if ev != want {
			t.Errorf("Tick(%s) = %+v, want %+v", now.Format("15:04:05.000"), ev, want)
		}
	}
	tick(t0, Events{}) // the first Tick: no period has ended yet
	mustWrite(t, r, "a\n", t0.Add(100*time.Millisecond))
	tick(t0.Add(500*time.Millisecond), Events{})
	tick(t1, Events{Boundary: true, Rotations: 1}) // Tick rotated app.log
	tick(t1.Add(100*time.Millisecond), Events{})

	// A Write that rotates (the file of an ended period, found at open).
	t2 := t1.Add(time.Second)
	mustWrite(t, r, "b\n", t1.Add(600*time.Millisecond))
	r.Close()
	mustWrite(t, r, "c\n", t2.Add(600*time.Millisecond))
	if err := r.Rotate(bg, t2.Add(700*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	tick(t2.Add(800*time.Millisecond), Events{Boundary: true, Rotations: 2})
	wantDir(t, dir, filepath.Base(pat.RotatedName(t0)), filepath.Base(pat.RotatedName(t1)), filepath.Base(pat.RotatedName(t2)))
}

// TestLockContext checks that a wait for a lock held by a live owner ends
// when its context is done, with ErrStopped, leaving the owner's lock.
func TestLockContext(t *testing.T) {
	t.Parallel()
	l, path, _ := newLock(t, time.Hour)
	release := holdLock(t, path, time.Now())
	defer release()
	ino := inode(t, path)
	ctx, cancel := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() {
		unlock, err := l.Acquire(ctx)
		if unlock != nil {
			unlock()
		}
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, ErrStopped) {
			t.Errorf("Acquire after cancel = %v, want ErrStopped", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Acquire still waiting 30 s after its context was cancelled")
	}
	if inode(t, path) != ino {
		t.Error("the owner's lock file was replaced")
	}
}

// TestCodecTable checks that every codec's files are told apart from the
// pattern's names, and that a codec name finds its row.
func TestCodecTable(t *testing.T) {
	t.Parallel()
	for _, name := range CodecNames() {
		c := LookupCodec(name)
		if c == nil || c.Name != name || c.Ext == "" || c.newWriter == nil {
			t.Fatalf("LookupCodec(%q) = %+v", name, c)
		}
		stem, got := splitCodec("app.log.2026-11-24.1" + c.Ext)
		if stem != "app.log.2026-11-24.1" || got != c {
			t.Errorf("splitCodec(...%s) = %q, %v", c.Ext, stem, got)
		}
		pat := compile(t, "/var/log/app.log", "D")
		if m, ok := pat.Match("/var/log/" + stem); !ok || m.Seq != 1 {
			t.Errorf("Match of %s without %s = %+v, %v", stem, c.Ext, m, ok)
		}
	}
	if LookupCodec("bzip2") != nil {
		t.Error("LookupCodec found a codec that is not in the table")
	}
	if _, c := splitCodec("app.log.2026-11-24.gz.tmp"); c != nil {
		t.Error("a compression's temporary file was taken for a compressed file")
	}
	if DefaultCodec() != LookupCodec(CodecNames()[0]) {
		t.Error("the default codec is not the first of the table")
	}
}

// TestLateLineAfterLinger checks guarantee 3 for a line written long after
// the boundary it was read before (a stalled lock holder, a HUP storm): it
// goes to its period's rotated file, even once every pipeline has let go of
// it, unless that file was handed off (its post-rotate command run); then
// to the current file, said under -v.
func TestLateLineAfterLinger(t *testing.T) {
	t.Parallel()
	for _, handedOff := range []bool{false, true} {
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		var verbose logRec
		r, _ := newRot(t, pat, func(c *Config) { c.Verbosef = verbose.logf })
		rotated := pat.RotatedName(pat.Start(t0))
		mustWrite(t, r, "a\n", t0.Add(100*time.Millisecond))
		mustWrite(t, r, "b\n", t1.Add(100*time.Millisecond))     // rotates
		if _, err := r.Tick(bg, t1.Add(lingerFor)); err != nil { // lets go of it
			t.Fatal(err)
		}
		if handedOff {
			f, err := os.Open(rotated)
			if err != nil {
				t.Fatal(err)
			}
			newMeta(nil, nil).set(f, rotated, hookAttr, []byte(hookDone))
			f.Close()
		}
		r.Close()
		mustWrite(t, r, "late\n", t1.Add(-time.Millisecond))
		if handedOff {
			wantFile(t, rotated, "a\n")
			wantFile(t, filepath.Join(dir, "app.log"), "b\nlate\n")
			if len(verbose.matching("handed off")) != 1 {
				t.Errorf("-v said %q, want one word of the handed-off file", verbose.matching(""))
			}
		} else {
			wantFile(t, rotated, "a\nlate\n")
			wantFile(t, filepath.Join(dir, "app.log"), "b\n")
		}
	}
}
