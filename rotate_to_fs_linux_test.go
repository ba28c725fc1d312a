package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// bindMount mounts dir over a new directory, or skips where mounting is
// refused (root only; ROTLOG_REQUIRE_ROOT makes that a failure).
func bindMount(t *testing.T, dir string) string {
	t.Helper()
	at := t.TempDir()
	if err := unix.Mount(dir, at, "", unix.MS_BIND, ""); err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "cannot bind-mount a directory (%v): a mount boundary is tested as root", err)
	}
	t.Cleanup(func() { unix.Unmount(at, unix.MNT_DETACH) })
	return at
}

// A --rotate-to path that a rename cannot reach from the active file, on
// another filesystem (a tmpfs) or across a mount boundary on the same
// filesystem (a bind mount: same device, and rename still fails with
// EXDEV), is refused at start: exit 2, one line saying why (and the usual
// hint), before any input is read, nothing made. The nearest existing
// directory of the rotated path counts, so a directory yet to be made under
// the mount is refused too. A rotated path on the same mount is taken.
func TestRotateToOtherFilesystem(t *testing.T) {
	t.Parallel()
	tmpfs := mountTmpfs(t, 1<<20)
	bindSrc := t.TempDir()
	bound := bindMount(t, bindSrc)
	run := func(dir string, args ...string) (*started, string) {
		t.Helper()
		cmd := rotlogCmd(t, dir, "rotlog", nil, args...)
		cmd.Stdin = strings.NewReader("a line\n")
		r := start(t, cmd, false)
		if !r.exited(stopLimit) {
			t.Fatalf("rotlog %v still running", args)
		}
		return r, r.stderr.String()
	}
	for _, tc := range []struct{ name, rotateTo string }{
		{"tmpfs", filepath.Join(tmpfs, "app-%Y-%m-%d.log")},
		{"tmpfs, directories to make", filepath.Join(tmpfs, "archive/%Y/%m/app-%d.log")},
		{"bind mount", filepath.Join(bound, "app-%Y-%m-%d.log")},
		{"bind mount, relative", "../" + filepath.Base(bound) + "/%Y/app-%m-%d.log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if strings.HasPrefix(tc.rotateTo, "../") {
				// Relative to the active file's directory: a sibling of
				// the mount point.
				dir = filepath.Join(filepath.Dir(bound), "active-"+strings.ReplaceAll(t.Name(), "/", "_"))
				os.Mkdir(dir, 0o755)
				t.Cleanup(func() { os.RemoveAll(dir) })
			}
			r, stderr := run(dir, "-p", "app.log", "-w", "D", "--rotate-to", tc.rotateTo)
			if r.status() != 2 {
				t.Errorf("exit status %d, want 2; stderr:\n%s", r.status(), stderr)
			}
			re := regexp.MustCompile(`\Arotlog: error: --rotate-to: \S+ is on another filesystem or mount than app\.log; a rename cannot move it there\nrotlog: hint: see rotlog --help\n\z`)
			if !re.MatchString(stderr) {
				t.Errorf("stderr:\n%s\nwant it to match %s", stderr, re)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("made %v", ents)
			}
		})
	}
	t.Run("same mount", func(t *testing.T) {
		r, stderr := run(tmpfs, "-p", "app.log", "-w", "D", "--rotate-to", "archive/%Y/app-%m-%d.log")
		if r.status() != 0 || stderr != "" {
			t.Errorf("exit status %d; stderr:\n%s", r.status(), stderr)
		}
		if got := readFileQuiet(filepath.Join(tmpfs, "app.log")); got != "a line\n" {
			t.Errorf("app.log = %q", got)
		}
	})
}
