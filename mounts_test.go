//go:build linux

package main

import (
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The multi-pipeline check on one FUSE mount with each of the switches a
// network or FUSE file system may have: locks kept by the kernel per mount
// (sshfs, bindfs), locks passed to the server (a file system with a lock
// manager), and names and attributes cached by the kernel for a second
// (sshfs, NFS clients). With one mount, one host, rotlog keeps every
// guarantee: eight pipelines with -when S -z and a post-rotate command
// lose, double, tear and misfile nothing, and compress and hook each
// rotated file once.
func TestOneMountSwitches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		o    mountOptions
	}{
		{"per-mount locks", mountOptions{}},
		{"locks on the backing files", mountOptions{sharedLocks: true}},
		{"attribute cache", mountOptions{cache: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tfs := mountTestFSWith(t, tc.o)
			checkPipelinesOn(t, tfs, 8, 8*time.Second)
		})
	}
}

// Two mounts of one directory, as two hosts see a shared file system, show
// the hazard rotlog warns of at start: the rotation lock app.log.lock is
// one file for both, but its flock is kept per mount, so a pipeline on
// mount B finds the flock of a lock that a live pipeline on mount A holds
// free, judges the lock stale once it is older than --lock-timeout, and
// breaks it: two pipelines rotate at once. Here A is stalled inside its
// rotation (its rename of app.log waits, as on a mount whose server is
// slow), its lock older than --lock-timeout; B breaks it, rotates app.log
// itself, makes a new app.log and writes its line there. When A's rename
// goes on, the rotated name already holds the file A set out to rename
// (B moved it there). A used to take its rename as done and remove
// app.log: B's new file, with B's line, lost though both pipelines exited
// 0. A now checks that app.log still names the file it judged before it
// removes anything, so here no line is lost; but two pipelines held the
// lock at once, and nothing rotlog can do on one host prevents that, as
// its locks are only as good as the file system's (with appends through
// two mounts not atomic either: TestTwoMountsAppend); hence the README's
// "one writer per file per host, or a collector". The test asserts that B
// broke a live lock, and that every line is still there once.
//
// The control: with the locks passed to the backing files (as a file
// system with a working lock manager shares them), B finds the flock held,
// waits for A, and both lines are in their period's file.
func TestTwoMountsLock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		sharedLocks bool
	}{{"per-mount locks", false}, {"shared locks", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a := mountTestFSWith(t, mountOptions{sharedLocks: tc.sharedLocks})
			b := mountTestFSWith(t, mountOptions{backing: a.backing, sharedLocks: tc.sharedLocks})
			start := func(tfs *testFS, at, line string) *proc {
				t.Helper()
				p := startOnTestFS(t, tfs, "app.log", "-when", "M", "-v", "--lock-timeout", "1s", "--start-time", at)
				if line != "" {
					io.WriteString(p.stdin, line)
				}
				return p
			}
			p := start(a, "2026-11-24 10:00:00", "first\n")
			p.wait(t)
			s := newStall()
			a.stallRename.Store(s)
			pa := start(a, "2026-11-24 10:05:00", "a\n")
			select {
			case <-s.entered:
			case <-time.After(time.Minute):
				t.Fatalf("A never rotated; stderr: %s", pa.stderr)
			}
			// A holds the lock, stalled in its rename of app.log.
			lock := filepath.Join(a.backing, "app.log.lock")
			if got, pid := readFile(t, lock), strconv.Itoa(pa.cmd.Process.Pid); !strings.Contains(got, " "+pid+" ") {
				t.Fatalf("lock holds %q, not A's PID %s", got, pid)
			}
			// As A's lock looks once A has held it longer than
			// --lock-timeout.
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(lock, old, old); err != nil {
				t.Fatal(err)
			}
			// A's clock, to a moment (both in the minute 10:05): with
			// clocks apart, lines would go to other periods' files
			// however good the locks.
			pb := start(b, "2026-11-24 10:05:00", "")
			// A pipeline takes the lock when it starts. Printed after B's
			// first look at the lock: its age, then its flock.
			waitFor(t, "B to find the lock taken", func() bool { return strings.Contains(pb.stderr.String(), "is held; waiting") })
			broke := strings.Contains(pb.stderr.String(), "broke stale lock")
			// B's line is sent while A is stalled under its lock, or once
			// A is done: appends through two mounts at once are not atomic
			// either (TestTwoMountsAppend).
			if tc.sharedLocks {
				if broke {
					t.Errorf("B broke the lock of a live A with shared locks; stderr: %s", pb.stderr)
				}
				s.free()
				pa.wait(t)
				io.WriteString(pb.stdin, "b\n")
				pb.wait(t)
			} else {
				if !broke || !strings.Contains(pb.stderr.String(), " "+strconv.Itoa(pa.cmd.Process.Pid)+" ") {
					t.Errorf("B did not break A's lock; stderr: %s", pb.stderr)
				}
				// B rotates and writes while A is still stalled under
				// the lock it took.
				io.WriteString(pb.stdin, "b\n")
				pb.wait(t)
				s.free()
				pa.wait(t)
			}
			for _, c := range []struct {
				tfs *testFS
				p   *proc
			}{{a, p}, {a, pa}, {b, pb}} {
				if want := "rotlog: warning: " + c.tfs.mnt + " is on a FUSE"; !strings.Contains(c.p.stderr.String(), want) {
					t.Errorf("no warning %q; stderr: %s", want, c.p.stderr)
				}
			}
			files := map[string]string{}
			ents, _ := os.ReadDir(a.backing)
			for _, e := range ents {
				files[e.Name()] = readFileQuiet(filepath.Join(a.backing, e.Name()))
			}
			t.Logf("files: %q", files)
			if tc.sharedLocks {
				want := map[string]string{"app.log.2026-11-24_10-00": "first\n", "app.log": "a\nb\n"}
				if !maps.Equal(files, want) {
					t.Errorf("files %q, want %q; A: %s\nB: %s", files, want, pa.stderr, pb.stderr)
				}
			} else {
				var all []string
				for _, c := range files {
					all = append(all, strings.SplitAfter(c, "\n")...)
				}
				slices.Sort(all)
				if want := []string{"", "", "a\n", "b\n", "first\n"}; !slices.Equal(all, want) {
					t.Errorf("lines %q, want %q once each: a line was lost or doubled when B broke A's lock", all, want)
				}
			}
		})
	}
}

// The switches do what they say, seen by this process through two mounts
// of one directory: a flock taken through one mount is seen through the
// other only with sharedLocks; a change to a file made beside a mount is
// seen through it at once without cache, and not within cache with it.
func TestMountSwitches(t *testing.T) {
	t.Parallel()
	for _, shared := range []bool{false, true} {
		a := mountTestFSWith(t, mountOptions{sharedLocks: shared})
		b := mountTestFSWith(t, mountOptions{backing: a.backing, sharedLocks: shared})
		if err := os.WriteFile(filepath.Join(a.backing, "f"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		fa, err := os.Open(filepath.Join(a.mnt, "f"))
		if err != nil {
			t.Fatal(err)
		}
		fb, err := os.Open(filepath.Join(b.mnt, "f"))
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Flock(int(fa.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			t.Fatal(err)
		}
		err = unix.Flock(int(fb.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if shared && err == nil {
			t.Error("sharedLocks: a flock through one mount does not keep one through the other")
		}
		if !shared && err != nil {
			t.Errorf("per-mount locks: a flock through one mount keeps one through the other: %v", err)
		}
		fa.Close()
		fb.Close()
	}
	for _, cache := range []time.Duration{0, time.Hour} {
		tfs := mountTestFSWith(t, mountOptions{cache: cache})
		f := filepath.Join(tfs.backing, "f")
		if err := os.WriteFile(f, []byte("one\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(tfs.mnt, "f")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, []byte("one\ntwo\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(filepath.Join(tfs.mnt, "f"))
		if err != nil {
			t.Fatal(err)
		}
		if stale := fi.Size() != 8; stale != (cache > 0) {
			t.Errorf("cache %s: size %d seen after a change to 8", cache, fi.Size())
		}
	}
}

// Two mounts of one directory show the hazard the start-up warning names:
// appends through two mounts (two hosts) to one file are not atomic. Each
// mount's kernel turns an O_APPEND write into a write at the end of the
// file as that mount sees it, and the file system (here go-fuse's
// loopback, as sshfs does) writes where it is told. A write of A's that is
// slow to reach the file system (A's writes wait, as on a slow link) lands
// where the file ended when A made it: over the line B appended meanwhile.
// B's line is torn (seen: "a1\na2\nfrom host B\n"), though both pipelines
// exited 0. On one mount this cannot happen: the kernel appends to an
// inode one write at a time. No lock of rotlog's can help, as appends take
// none; hence the README's "one writer per file per host, or a collector".
func TestTwoMountsAppend(t *testing.T) {
	t.Parallel()
	a := mountTestFS(t)
	b := mountTestFSWith(t, mountOptions{backing: a.backing})
	file := filepath.Join(a.backing, "app.log")
	args := []string{"-when", "D", "--start-time", "2026-11-24 10:00:00"}
	pa := startOnTestFS(t, a, "app.log", args...)
	io.WriteString(pa.stdin, "a1\n")
	waitFor(t, "A's first line", func() bool { return readFileQuiet(file) == "a1\n" })
	s := newStall()
	a.stallWrite.Store(s)
	io.WriteString(pa.stdin, "a2\n")
	select {
	case <-s.entered:
	case <-time.After(time.Minute):
		t.Fatalf("A never wrote; stderr: %s", pa.stderr)
	}
	pb := startOnTestFS(t, b, "app.log", args...)
	io.WriteString(pb.stdin, "b1 from host B\n")
	waitFor(t, "B's line", func() bool { return readFileQuiet(file) == "a1\nb1 from host B\n" })
	s.free()
	pa.wait(t)
	pb.wait(t)
	for _, c := range []struct {
		tfs *testFS
		p   *proc
	}{{a, pa}, {b, pb}} {
		if want := "rotlog: warning: " + c.tfs.mnt + " is on a FUSE"; !strings.Contains(c.p.stderr.String(), want) {
			t.Errorf("no warning %q; stderr: %s", want, c.p.stderr)
		}
	}
	got := readFile(t, file)
	t.Logf("app.log: %q", got)
	if strings.Contains(got, "b1 from host B\n") {
		t.Errorf("app.log = %q: B's line is whole, the hazard did not show", got)
	}
}
