package rotator

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLockFutureMtime checks that a dead owner's lock whose time is in the
// future (the clock was stepped back after the crash) is broken too.
func TestLockFutureMtime(t *testing.T) {
	t.Parallel()
	l, path, lr := newLock(t, 100*time.Millisecond)
	plantStale(t, path, "otherhost 1 2030-01-01T00:00:00Z\n")
	setMtime(t, path, time.Now().Add(24*time.Hour))
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	unlock, err := l.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire over a dead owner's lock dated tomorrow: %v", err)
	}
	unlock()
	if len(lr.matching("broke stale lock")) != 1 {
		t.Errorf("log %q, want one broken stale lock", lr.matching(""))
	}
}

// TestLockPlanted checks a lock name that is not a lock file (a symbolic
// link, a directory): Acquire fails with a message naming it, instead of
// waiting forever, and leaves it alone.
func TestLockPlanted(t *testing.T) {
	t.Parallel()
	t.Run("symlink", func(t *testing.T) {
		t.Parallel()
		l, path, _ := newLock(t, time.Hour)
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.WriteFile(target, []byte("keep\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		_, err := l.Acquire(ctx)
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("Acquire over a planted symbolic link = %v, want an error naming it", err)
		}
		if ctx.Err() != nil {
			t.Fatal("Acquire waited for its context instead of failing")
		}
		wantFile(t, target, "keep\n")
		if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("the link was touched: %v %v", fi, err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		l, path, _ := newLock(t, time.Hour)
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(bg, 30*time.Second)
		defer cancel()
		_, err := l.Acquire(ctx)
		if err == nil || !strings.Contains(err.Error(), "directory") {
			t.Fatalf("Acquire with a directory as the lock = %v, want an error naming it a directory", err)
		}
		if ctx.Err() != nil {
			t.Fatal("Acquire waited for its context instead of failing")
		}
	})
}
