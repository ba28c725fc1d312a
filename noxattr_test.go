//go:build linux

package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
)

// On a filesystem without user extended attributes (a FUSE file system in
// this process refusing them, as FAT, NFSv3, sshfs or ext4 without
// user_xattr do), rotlog keeps its records in sidecar files, and every
// feature works as with them: eight pipelines with -when S -z and a
// post-rotate command misfile nothing (each file's period is the recorded
// one, not its mtime's), lose and double nothing, compress each rotated
// file once and run its command once. (Without sidecars: no command ran,
// and hundreds of lines were misfiled.)
func TestNoXattrPipelines(t *testing.T) {
	t.Parallel()
	tfs := mountTestFS(t)
	tfs.noXattr.Store(true)
	checkPipelinesOn(t, tfs, 8, 20*time.Second)
}

// checkPipelinesOn runs n pipelines with -when S -z and a post-rotate
// command on tfs for d, and checks that they misfile nothing, lose and
// double nothing, compress each rotated file once and run its command
// once; with tfs.noXattr set, that they keep records in sidecar files.
func checkPipelinesOn(t *testing.T, tfs *testFS, n int, d time.Duration) {
	t.Helper()
	hooks := filepath.Join(t.TempDir(), "hooks")
	args := []string{"-when", "S", "-z", "-v", "--post-rotate", "echo >>" + hooks}
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startOnTestFS(t, tfs, "app.log", args...)
	}
	sent := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			k, err := feed(p.stdin, i, d, rand.New(rand.NewPCG(uint64(i), 13)))
			if err != nil {
				t.Errorf("pipeline %d: %v", i, err)
			}
			mu.Lock()
			sent[i] = k
			mu.Unlock()
			p.wait(t)
		})
	}
	wg.Wait()
	rotations, compressions := map[string]int{}, map[string]int{}
	sidecars := false
	// Lines read before a boundary and written after their period's file
	// was compressed (a pipeline stalled that long): their period gets a
	// file again, a numbered variant.
	handedOff := 0
	for i, p := range procs {
		s := p.stderr.String()
		handedOff += strings.Count(s, "its period's file was handed off")
		reportedFiles(s, filepath.Base, rotations, compressions)
		sidecars = sidecars || strings.Contains(s, "sidecar")
		if strings.Contains(s, "error") {
			t.Errorf("pipeline %d: %s", i, s)
		}
	}
	if sidecars != tfs.noXattr.Load() {
		t.Errorf("a pipeline said it keeps records in sidecar files: %v; user xattrs refused: %v", sidecars, tfs.noXattr.Load())
	}
	if len(rotations) < 3 {
		t.Fatalf("only %d rotations in %s of -when S", len(rotations), d)
	}
	hooked := map[string]int{}
	b, _ := os.ReadFile(hooks)
	for _, l := range strings.Fields(string(b)) {
		hooked[filepath.Base(l)]++
	}
	for name, c := range rotations {
		if c != 1 {
			t.Errorf("%s rotated %d times", name, c)
		}
		if compressions[name] != 1 {
			t.Errorf("%s compressed %d times", name, compressions[name])
		}
		if hooked[name+".gz"] != 1 {
			t.Errorf("%s hooked %d times", name+".gz", hooked[name+".gz"])
		}
	}
	if len(hooked) != len(rotations) {
		t.Errorf("%d files hooked, %d rotated: %v", len(hooked), len(rotations), hooked)
	}
	pat, err := pattern.Compile("app.log", pattern.Options{When: "S", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing lost, doubled, torn or misfiled; no sidecar without its
	// file; the active file's period read from its sidecar.
	files := checkTarget(t, tfs.backing, pat, sent)
	lines := 0
	for _, k := range sent {
		lines += k
	}
	t.Logf("%d lines, %d files rotated, compressed and hooked", lines, len(rotations))
	var twice []string
	for _, f := range files {
		if f.seq == 0 && !strings.HasSuffix(f.path, ".gz") {
			t.Errorf("%s left uncompressed", f.path)
		}
		if f.seq != 0 && f.seq != 1<<30 {
			twice = append(twice, filepath.Base(f.path))
		}
	}
	if len(twice) > handedOff {
		t.Errorf("periods rotated twice: %v; late lines after a hand-off: %d", twice, handedOff)
	} else if len(twice) > 0 {
		t.Logf("periods rotated twice after a late line: %v", twice)
	}
	if tfs.noXattr.Load() && !exists(filepath.Join(tfs.backing, ".app.log.rotlog")) && exists(filepath.Join(tfs.backing, "app.log")) {
		t.Error("the active file has no sidecar")
	}
}

// Exactly-once compression without extended attributes: a compression
// stopped between the rename of NAME.gz.tmp to NAME.gz and the removal of
// NAME (the FUSE file system refuses that removal, then the process is
// killed: the state a kill at that instant leaves) is finished by the next
// start, which removes NAME, knowing NAME.gz was made from it: its sidecar
// says so. (Without it, NAME was moved aside and compressed again: every
// line stored twice.)
func TestNoXattrCompressionKilled(t *testing.T) {
	t.Parallel()
	tfs := mountTestFS(t)
	tfs.noXattr.Store(true)
	const name = "app.log.2026-11-24"
	var want strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&want, "old line %d\n", i)
	}
	old := filepath.Join(tfs.backing, name)
	if err := os.WriteFile(old, []byte(want.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tfs.noUnlink.Store(name)
	args := []string{"-when", "D", "-z", "-v", "--start-time", "2026-11-25 12:00:00"}
	p := startOnTestFS(t, tfs, "app.log", args...)
	waitFor(t, "the compression, and its failed removal of the original", func() bool {
		return exists(old+".gz") && strings.Contains(p.stderr.String(), "operation not permitted")
	})
	p.cmd.Process.Kill()
	p.cmd.Wait()
	tfs.noUnlink.Store("")
	if !exists(old) {
		t.Fatalf("%s is gone: the test proves nothing; stderr: %s", name, p.stderr)
	}
	p = startOnTestFS(t, tfs, "app.log", args...)
	p.wait(t)
	if exists(old) {
		t.Errorf("%s left after the next start; stderr: %s", name, p.stderr)
	}
	ents, _ := os.ReadDir(tfs.backing)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	for _, n := range names {
		if strings.HasPrefix(n, name+".") && n != name+".gz" {
			t.Errorf("%s made: compressed again (files: %v); stderr: %s", n, names, p.stderr)
		}
	}
	if got := string(readMaybeCompressed(t, old+".gz")); got != want.String() {
		t.Errorf("%s.gz holds %d bytes, want the %d of the original", name, len(got), want.Len())
	}
	if strings.Contains(p.stderr.String(), "error") {
		t.Errorf("stderr: %s", p.stderr)
	}
}

// A compression killed while it writes NAME.gz.tmp, without extended
// attributes: the original stays whole, nothing is left under a final name,
// and the next start compresses it once, leaving no sidecar without its
// file.
func TestNoXattrKillDuringCompression(t *testing.T) {
	t.Parallel()
	tfs := mountTestFS(t)
	tfs.noXattr.Store(true)
	const name = "app.log.2026-11-24"
	old := filepath.Join(tfs.backing, name)
	rng := rand.New(rand.NewPCG(5, 6))
	var want strings.Builder
	for i := 0; want.Len() < 8<<20; i++ { // long enough to kill the compression midway
		fmt.Fprintf(&want, "line %d %x\n", i, rng.Uint64())
	}
	if err := os.WriteFile(old, []byte(want.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := old + ".gz.tmp"
	args := []string{"-when", "D", "-z", "--start-time", "2026-11-25 12:00:00"}
	p := startOnTestFS(t, tfs, "app.log", args...)
	waitFor(t, "the compression to write", func() bool {
		fi, err := os.Stat(tmp)
		return err == nil && fi.Size() > 0
	})
	p.cmd.Process.Kill()
	p.cmd.Wait()
	if exists(old + ".gz") {
		t.Fatal("a file under the final name after the kill")
	}
	if !exists(tmp) {
		t.Fatal("the kill did not interrupt the compression; the test proves nothing")
	}
	if got := readFileQuiet(old); got != want.String() {
		t.Fatal("the original changed")
	}
	p = startOnTestFS(t, tfs, "app.log", args...)
	p.wait(t)
	if exists(tmp) || exists(old) {
		t.Errorf("leftovers after a later pass; stderr: %s", p.stderr)
	}
	if got := string(readMaybeCompressed(t, old+".gz")); got != want.String() {
		t.Errorf("%s.gz holds %d bytes, want the %d of the original", name, len(got), want.Len())
	}
	ents, _ := os.ReadDir(tfs.backing)
	for _, e := range ents {
		if file, ok := sidecarOf(filepath.Join(tfs.backing, e.Name())); ok && !exists(file) {
			t.Errorf("sidecar %s without its file", e.Name())
		}
		if strings.HasPrefix(e.Name(), name+".") && e.Name() != name+".gz" {
			t.Errorf("%s made", e.Name())
		}
	}
}

// Without extended attributes a file's records are a sidecar, which needs
// room: a rotation on a full disk waits for room rather than rename the
// file without its records (its post-rotate mark was lost, and its command
// never ran). Here the disk (a small tmpfs under the FUSE file system) is
// full when SIGALRM asks for a rotation, and has room again at the next:
// the rotated file's command runs, once.
func TestNoXattrFullDiskKeepsMarks(t *testing.T) {
	t.Parallel()
	backing := mountTmpfs(t, 4<<20)
	tfs := mountTestFSWith(t, mountOptions{backing: backing})
	tfs.noXattr.Store(true)
	hooks := filepath.Join(t.TempDir(), "hooks")
	p := startOnTestFS(t, tfs, "app.log", "-when", "D", "-v", "--post-rotate", "echo >>"+hooks)
	app := filepath.Join(backing, "app.log")
	if _, err := io.WriteString(p.stdin, "first\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first line", func() bool { return readFileQuiet(app) == "first\n" })
	filler := fillDisk(t, backing)
	p.cmd.Process.Signal(syscall.SIGALRM)
	waitFor(t, "the rotation refused for want of room, or made", func() bool {
		return strings.Contains(p.stderr.String(), "cannot follow it") || !exists(app)
	})
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGALRM)
	waitFor(t, "the rotation", func() bool { return !exists(app) })
	p.wait(t)
	hooked := map[string]int{}
	b, _ := os.ReadFile(hooks)
	for _, l := range strings.Fields(string(b)) {
		hooked[filepath.Base(l)]++
	}
	ents, err := os.ReadDir(backing)
	if err != nil {
		t.Fatal(err)
	}
	rotated := 0
	for _, e := range ents {
		if name := e.Name(); strings.HasPrefix(name, "app.log.") {
			rotated++
			if hooked[name] != 1 {
				t.Errorf("%s: post-rotate command run %d times, want once; stderr: %s", name, hooked[name], p.stderr)
			}
		}
	}
	if rotated != 1 {
		t.Errorf("%d rotated files, want 1: %v", rotated, ents)
	}
}

// The same for an active file made while the disk is full: without room
// for its records it is not kept (the write is retried, as any write on a
// full disk), so the file that takes the lines, once there is room, has
// its period and its post-rotate mark, and its command runs once it is
// rotated.
func TestNoXattrFullDiskNewFileRecorded(t *testing.T) {
	t.Parallel()
	backing := mountTmpfs(t, 4<<20)
	tfs := mountTestFSWith(t, mountOptions{backing: backing})
	tfs.noXattr.Store(true)
	hooks := filepath.Join(t.TempDir(), "hooks")
	filler := fillDisk(t, backing)
	p := startOnTestFS(t, tfs, "app.log", "-when", "D", "-v", "--post-rotate", "echo >>"+hooks)
	if _, err := io.WriteString(p.stdin, "first\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the write to fail for want of room", func() bool { return strings.Contains(p.stderr.String(), "no space left") })
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(backing, "app.log")
	waitFor(t, "the line written", func() bool { return readFileQuiet(app) == "first\n" })
	p.cmd.Process.Signal(syscall.SIGALRM)
	waitFor(t, "the rotation", func() bool { return !exists(app) })
	p.wait(t)
	b, _ := os.ReadFile(hooks)
	if got := strings.Fields(string(b)); len(got) != 1 || !strings.HasPrefix(filepath.Base(got[0]), "app.log.") {
		t.Errorf("post-rotate command run for %q, want once for the rotated file; stderr: %s", got, p.stderr)
	}
}
