package rotator

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rotlog/rotlog/pattern"
)

// The tests pass time as an argument; these instants fix the periods.
// With -when S, t0 is in period P and t1 in P+1.
var (
	t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(time.Second)
)

// bg is the context of calls no test stops.
var bg = context.Background()

// compile compiles a target in UTC.
func compile(tb testing.TB, path, when string) *pattern.Pattern {
	tb.Helper()
	p, err := pattern.Compile(path, pattern.Options{When: when, Location: time.UTC})
	if err != nil {
		tb.Fatalf("compile %q: %v", path, err)
	}
	return p
}

// logRec collects what a Rotator sends to Logf or Verbosef; safe for
// concurrent use, so many Rotators may share one.
type logRec struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRec) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, fmt.Sprintf(format, args...))
}

// matching returns the messages containing substr.
func (l *logRec) matching(substr string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, m := range l.msgs {
		if strings.Contains(m, substr) {
			out = append(out, m)
		}
	}
	return out
}

// newRot returns a Rotator for pat whose warnings go to the returned
// logRec; it is closed when the test ends. edit, if given, adjusts the
// Config first.
func newRot(tb testing.TB, pat *pattern.Pattern, edit ...func(*Config)) (*Rotator, *logRec) {
	tb.Helper()
	lr := &logRec{}
	cfg := Config{Pattern: pat, LockTimeout: 10 * time.Second, Logf: lr.logf}
	for _, e := range edit {
		e(&cfg)
	}
	r := New(cfg)
	tb.Cleanup(func() { r.Close() })
	return r, lr
}

func mustWrite(tb testing.TB, r *Rotator, s string, now time.Time) {
	tb.Helper()
	n, err := r.Write(bg, []byte(s), now)
	if err != nil || n != len(s) {
		tb.Fatalf("Write(%q, %s) = %d, %v; want %d, nil", s, now.Format(time.RFC3339Nano), n, err, len(s))
	}
}

func wantFile(tb testing.TB, path, want string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Errorf("read %s: %v (want content %q)", filepath.Base(path), err, want)
		return
	}
	if string(b) != want {
		tb.Errorf("%s holds %q, want %q", filepath.Base(path), b, want)
	}
}

func wantNoFile(tb testing.TB, path string) {
	tb.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		tb.Errorf("%s: Lstat error %v, want it not to exist", filepath.Base(path), err)
	}
}

// wantDir checks that dir holds exactly the given names.
func wantDir(tb testing.TB, dir string, names ...string) {
	tb.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	slices.Sort(names)
	if !slices.Equal(got, names) {
		tb.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

func setMtime(tb testing.TB, path string, mtime time.Time) {
	tb.Helper()
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		tb.Fatal(err)
	}
}

// heldOpen reports whether this process has a descriptor open on path
// (descriptors follow renames, so path is the file's current name).
func heldOpen(tb testing.TB, path string) bool {
	tb.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		tb.Skipf("no /proc/self/fd: %v", err)
	}
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && target == path {
			return true
		}
	}
	return false
}

// needXattr skips a test that relies on the recorded period when dir's
// filesystem has no user xattrs (rotation then falls back to mtimes, as
// documented).
func needXattr(tb testing.TB, dir string) {
	tb.Helper()
	p := filepath.Join(dir, ".xattr-probe")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	defer os.Remove(p)
	if err := unix.Setxattr(p, startAttr, []byte("1"), 0); err != nil {
		tb.Skipf("%s has no user xattrs (%v); the recorded period cannot be tested", dir, err)
	}
}
