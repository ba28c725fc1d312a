package rotator

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests below put a directory in sidecar mode, as if its filesystem had
// refused user xattrs (ENOTSUP): records then go to sidecar files there,
// and must never reach an xattr.

func sidecarMeta(dir string) *meta {
	m := newMeta(nil, nil)
	m.sidecars[dir] = true
	return m
}

// create makes a file at path holding s and records as on it through m.
func create(t *testing.T, m *meta, path, s string, as ...attr) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m.setAll(f, path, as)
}

func wantRecord(t *testing.T, m *meta, path, name, want string) {
	t.Helper()
	if got := string(m.get(path, name)); got != want {
		t.Errorf("%s: %s = %q, want %q", filepath.Base(path), name, got, want)
	}
}

func noXattr(t *testing.T, path string) {
	t.Helper()
	var buf [256]byte
	for _, name := range []string{startAttr, hookAttr, manifestAttr, sourceAttr} {
		if n, err := unix.Lgetxattr(path, name, buf[:]); err == nil {
			t.Errorf("%s has the xattr %s = %q in sidecar mode", filepath.Base(path), name, buf[:n])
		}
	}
}

// A file's records follow it when it is renamed; a name taken by a file,
// or reserved by another rename under way (a young sidecar without its
// file), is skipped for the next numbered variant; an old sidecar without
// its file is replaced.
func TestSidecarFollowsRename(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := sidecarMeta(dir)
	a := filepath.Join(dir, "app.log")
	create(t, m, a, "a\n", attr{startAttr, []byte("1")}, attr{hookAttr, []byte(hookPending)})
	if !exists(sidecarPath(a)) {
		t.Fatalf("no sidecar %s", sidecarPath(a))
	}
	noXattr(t, a)
	wantRecord(t, m, a, hookAttr, hookPending)

	b := filepath.Join(dir, "app.log.1")
	if got, err := m.rotateTo(a, b, 0); err != nil || got != b {
		t.Fatalf("rotateTo = %q, %v", got, err)
	}
	wantRecord(t, m, b, startAttr, "1")
	wantRecord(t, m, b, hookAttr, hookPending)
	wantNoFile(t, sidecarPath(a))

	// Taken by a file with records of its own.
	c := filepath.Join(dir, "app.log.2")
	create(t, m, c, "c\n", attr{hookAttr, []byte(hookDone)})
	create(t, m, a, "d\n", attr{hookAttr, []byte(hookPending)})
	if got, err := m.rotateTo(a, c, 0); err != nil || got != c+".1" {
		t.Fatalf("rotateTo onto a taken name = %q, %v; want %s", got, err, c+".1")
	}
	wantRecord(t, m, c, hookAttr, hookDone)
	wantRecord(t, m, c+".1", hookAttr, hookPending)
	wantFile(t, c, "c\n")

	// Reserved: a young sidecar without its file.
	e := filepath.Join(dir, "app.log.3")
	if err := os.WriteFile(sidecarPath(e), []byte(sidecarMagic+" ino=1 birth=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	create(t, m, a, "e\n", attr{hookAttr, []byte(hookPending)})
	if got, err := m.rotateTo(a, e, 0); err != nil || got != e+".1" {
		t.Fatalf("rotateTo onto a reserved name = %q, %v; want %s", got, err, e+".1")
	}
	// The same, old: an orphan, replaced.
	setMtime(t, sidecarPath(e), time.Now().Add(-time.Hour))
	create(t, m, a, "f\n", attr{hookAttr, []byte(hookFailed + ":1:1")})
	if got, err := m.rotateTo(a, e, 0); err != nil || got != e {
		t.Fatalf("rotateTo onto an orphan's name = %q, %v; want %s", got, err, e)
	}
	wantRecord(t, m, e, hookAttr, hookFailed+":1:1")
	wantNoFile(t, sidecarPath(a))
}

// A sidecar is believed only about the file it was written for: under a
// name that now holds another file (not renamed by rotlog), or read
// through another descriptor, it is ignored.
func TestSidecarIdentity(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := sidecarMeta(dir)
	a := filepath.Join(dir, "app.log.2026-11-24")
	create(t, m, a, "a\n", attr{startAttr, []byte("1")}, attr{hookAttr, []byte(hookPending)})
	wantRecord(t, m, a, hookAttr, hookPending)

	other := filepath.Join(dir, "other")
	if err := os.WriteFile(other, []byte("other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(other)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if v := m.getFile(f, a, hookAttr); v != nil {
		t.Errorf("read through another file's descriptor: %q", v)
	}
	if err := os.Rename(other, a); err != nil {
		t.Fatal(err)
	}
	wantRecord(t, m, a, hookAttr, "")
	wantRecord(t, m, a, startAttr, "")
	if v := m.getFile(f, a, hookAttr); v != nil {
		t.Errorf("the new file at the name got the old sidecar's record %q", v)
	}
	// Its own records start afresh, without the old ones.
	m.set(f, a, manifestAttr, []byte(hookPending))
	wantRecord(t, m, a, manifestAttr, hookPending)
	wantRecord(t, m, a, hookAttr, "")
}

// Housekeeping removes old sidecars about no file of the target (its file
// gone, or another file at the name), and old temporary sidecars; it keeps
// a sidecar about its file, a young one (a rename or creation under way),
// and anything that is not the target's.
func TestSidecarSweep(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	m := sidecarMeta(dir)
	pat := compile(t, filepath.Join(dir, "app.log"), "D")
	old := time.Now().Add(-time.Hour)
	path := func(name string) string { return filepath.Join(dir, name) }

	create(t, m, path("app.log.2026-11-23"), "kept\n", attr{hookAttr, []byte(hookDone)})
	create(t, m, path("app.log.2026-11-22"), "gone\n", attr{hookAttr, []byte(hookDone)})
	create(t, m, path("app.log.2026-11-21"), "gone\n", attr{hookAttr, []byte(hookDone)})
	create(t, m, path("app.log.2026-11-19"), "replaced\n", attr{hookAttr, []byte(hookDone)})
	create(t, m, path("other.log.2026-11-22"), "other\n", attr{hookAttr, []byte(hookDone)})
	os.Remove(path("app.log.2026-11-22"))
	os.Remove(path("app.log.2026-11-21"))
	os.Remove(path("other.log.2026-11-22"))
	os.Remove(path("app.log.2026-11-19"))
	os.WriteFile(path("app.log.2026-11-19"), []byte("another\n"), 0o644)
	tmp := sidecarPath(path("app.log.2026-11-20")) + ".tmp-1-2"
	os.WriteFile(tmp, []byte("part"), 0o644)
	youngTmp := sidecarPath(path("app.log.2026-11-18")) + ".tmp-1-2"
	os.WriteFile(youngTmp, []byte("part"), 0o644)
	for _, name := range []string{"app.log.2026-11-23", "app.log.2026-11-22", "app.log.2026-11-19", "other.log.2026-11-22"} {
		setMtime(t, sidecarPath(path(name)), old)
	}
	setMtime(t, tmp, old)

	k := NewKeeper(pat, Housekeeping{BackupCount: 10}, nil, nil)
	k.Pass(bg, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))

	for _, name := range []string{"app.log.2026-11-23", "app.log.2026-11-21", "other.log.2026-11-22"} {
		if !exists(sidecarPath(path(name))) {
			t.Errorf("the sidecar of %s was removed", name)
		}
	}
	if !exists(youngTmp) {
		t.Errorf("%s, young, was removed", youngTmp)
	}
	for _, p := range []string{sidecarPath(path("app.log.2026-11-22")), sidecarPath(path("app.log.2026-11-19")), tmp} {
		if exists(p) {
			t.Errorf("%s was not swept", filepath.Base(p))
		}
	}
	wantFile(t, path("app.log.2026-11-19"), "another\n")
	wantRecord(t, m, path("app.log.2026-11-23"), hookAttr, hookDone)
}

// Without xattrs, compression carries a file's records to the compressed
// file (its hook mark, and the source's identity that makes a compression
// interrupted before removing the original finish instead of starting
// again), the hook marks go to the sidecar, and the original's sidecar
// goes with it; retention removes a file's sidecar with it.
func TestSidecarCompressHookRetain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "D")
	src := filepath.Join(dir, "app.log.2026-11-23")
	create(t, sidecarMeta(dir), src, "a\n", attr{hookAttr, []byte(hookPending)})
	k := NewKeeper(pat, Housekeeping{Codec: DefaultCodec(), PostRotate: "true", HookTimeout: time.Minute}, nil, nil)
	k.meta.sidecars[dir] = true
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	k.Pass(bg, now)
	gz := src + ".gz"
	wantNoFile(t, src)
	wantNoFile(t, sidecarPath(src))
	noXattr(t, gz)
	m := sidecarMeta(dir)
	wantRecord(t, m, gz, hookAttr, hookDone)
	if m.get(gz, sourceAttr) == nil || m.get(gz, contentAttr) == nil {
		t.Errorf("%s lacks its source or content record", gz)
	}

	// Retention takes the sidecar with its file.
	k = NewKeeper(pat, Housekeeping{MaxAge: time.Hour}, nil, nil)
	k.Pass(bg, now)
	wantNoFile(t, gz)
	wantNoFile(t, sidecarPath(gz))
}

// Without xattrs, the period of an active file is the one its creator
// recorded in its sidecar, not its mtime's: a file whose coarse mtime is
// before the boundary it was created after is not rotated as the old
// period's, and a late write of an old line does not make an old file
// current. A second pipeline opens the current file without the lock, by
// its sidecar.
func TestSidecarRecordedPeriod(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "S")
	var steps []string
	a, _ := newRot(t, pat)
	b, _ := newRot(t, pat, func(c *Config) { c.Unlocked = func(s string) { steps = append(steps, s) } })
	a.meta.sidecars[dir] = true
	b.meta.sidecars[dir] = true

	mustWrite(t, a, "a\n", t1)
	active := pat.Path(t1)
	noXattr(t, active)
	setMtime(t, active, t1.Add(-time.Millisecond))
	mustWrite(t, b, "b\n", t1.Add(10*time.Millisecond))
	wantFile(t, active, "a\nb\n")
	if len(steps) == 0 || steps[len(steps)-1] != "name" {
		t.Errorf("the second pipeline did not open the file without the lock: steps %q", steps)
	}

	setMtime(t, active, t1.Add(time.Second+500*time.Millisecond))
	mustWrite(t, b, "c\n", t1.Add(time.Second))
	wantFile(t, pat.RotatedName(pat.Start(t1)), "a\nb\n")
	wantFile(t, active, "c\n")
	wantDir(t, dir, "app.log", "app.log.2026-11-25_12-00-01", ".app.log.rotlog", ".app.log.2026-11-25_12-00-01.rotlog")
	wantRecord(t, a.meta, pat.RotatedName(pat.Start(t1)), startAttr, string(encodeStart(pat.Start(t1))))
}

// Without xattrs, the settings a pipeline recorded in the active file's
// sidecar are checked as in an attribute: another pipeline with a
// different unit is refused while the first writes.
func TestSidecarCheckSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	first, _ := newRot(t, compile(t, path, "D"))
	first.meta.sidecars[dir] = true
	mustWrite(t, first, "first\n", t0) // holds the file open
	noXattr(t, path)
	second, _ := newRot(t, compile(t, path, "H"))
	second.meta.sidecars[dir] = true
	if err := second.CheckSettings(bg); !errors.Is(err, ErrSettings) {
		t.Errorf("CheckSettings: %v, want a conflict", err)
	}
	first.Close()
	if err := second.CheckSettings(bg); err != nil {
		t.Errorf("CheckSettings with nobody writing: %v", err)
	}
}
