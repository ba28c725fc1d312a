//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// testFS is a loopback FUSE file system served by the test process over a
// temporary directory: its files fail writes with EIO while fail is set,
// and count the fsync calls they get. It refuses FUSE passthrough, so every
// write and every fsync reaches it.
type testFS struct {
	backing, mnt string
	fail         atomic.Bool
	fsyncs       atomic.Int64 // fsync and fdatasync calls on files
	fat          atomic.Bool  // refuse link(2) and renames with flags, as FAT does
	noXattr      atomic.Bool  // refuse extended attributes (ENOTSUP), as FAT, NFSv3 or ext4 without user_xattr do
	noUnlink     atomic.Value // string: a name whose removal fails with EPERM
}

// mountTestFS mounts a testFS, or skips the test where mounting is refused
// (it needs root and /dev/fuse, as in CI, where ROTLOG_REQUIRE_ROOT makes
// the refusal a failure).
//
// Start rotlog outside the mount, with an absolute path into it (see
// startOnTestFS): a child whose working directory is in the mount asks this
// process's file system server before it execs, while the vfork that made
// it holds a P of this process; two such children at once on a two-CPU
// machine leave no P to serve them, and all hang.
func mountTestFS(t *testing.T) *testFS {
	t.Helper()
	tfs := &testFS{backing: t.TempDir(), mnt: t.TempDir()}
	rn, err := fs.NewLoopbackRoot(tfs.backing)
	if err != nil {
		t.Fatal(err)
	}
	root := &faultNode{rn.(*fs.LoopbackNode), tfs}
	server, err := fs.Mount(tfs.mnt, root, &fs.Options{MountOptions: fuse.MountOptions{DirectMount: true}})
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "cannot mount a FUSE file system (%v): needs root and /dev/fuse", err)
	}
	t.Cleanup(func() { server.Unmount() })
	return tfs
}

// faultNode is a node of a testFS.
type faultNode struct {
	*fs.LoopbackNode
	tfs *testFS
}

// WrapChild makes every node below the root a faultNode too.
func (n *faultNode) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if ln, ok := ops.(*fs.LoopbackNode); ok {
		return &faultNode{ln, n.tfs}
	}
	return ops
}

// startOnTestFS starts rotlog in a directory outside tfs, writing
// tfs.mnt/name.
func startOnTestFS(t *testing.T, tfs *testFS, name string, args ...string) *proc {
	t.Helper()
	return startRotlog(t, t.TempDir(), "rotlog", nil, append([]string{"-p", filepath.Join(tfs.mnt, name)}, args...)...)
}

type faultFile struct {
	*fs.LoopbackFile
	tfs *testFS
}

func (f *faultFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if f.tfs.fail.Load() {
		return 0, syscall.EIO
	}
	return f.LoopbackFile.Write(ctx, data, off)
}

func (f *faultFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	f.tfs.fsyncs.Add(1)
	return f.LoopbackFile.Fsync(ctx, flags)
}

// PassthroughFd refuses FUSE passthrough, which would let the kernel
// write to the backing file without asking Write.
func (f *faultFile) PassthroughFd() (int, bool) { return 0, false }

func (n *faultNode) wrap(fh fs.FileHandle) fs.FileHandle {
	if lf, ok := fh.(*fs.LoopbackFile); ok {
		return &faultFile{lf, n.tfs}
	}
	return fh
}

// Link refuses hard links while fat is set (FAT and exFAT have none).
func (n *faultNode) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if n.tfs.fat.Load() {
		return nil, syscall.EPERM
	}
	return n.LoopbackNode.Link(ctx, target, name, out)
}

// Rename refuses RENAME_NOREPLACE and the other flags while fat is set.
func (n *faultNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if n.tfs.fat.Load() && flags != 0 {
		return syscall.EINVAL
	}
	return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
}

// Getxattr, Setxattr, Listxattr and Removexattr refuse extended
// attributes while noXattr is set, as a filesystem without them does.
func (n *faultNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if n.tfs.noXattr.Load() {
		return 0, syscall.ENOTSUP
	}
	return n.LoopbackNode.Getxattr(ctx, attr, dest)
}

func (n *faultNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	if n.tfs.noXattr.Load() {
		return syscall.ENOTSUP
	}
	return n.LoopbackNode.Setxattr(ctx, attr, data, flags)
}

func (n *faultNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	if n.tfs.noXattr.Load() {
		return 0, syscall.ENOTSUP
	}
	return n.LoopbackNode.Listxattr(ctx, dest)
}

func (n *faultNode) Removexattr(ctx context.Context, attr string) syscall.Errno {
	if n.tfs.noXattr.Load() {
		return syscall.ENOTSUP
	}
	return n.LoopbackNode.Removexattr(ctx, attr)
}

// Unlink refuses to remove the name noUnlink holds.
func (n *faultNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if s, _ := n.tfs.noUnlink.Load().(string); s != "" && s == name {
		return syscall.EPERM
	}
	return n.LoopbackNode.Unlink(ctx, name)
}

func (n *faultNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	return n.wrap(fh), fl, errno
}

func (n *faultNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	in, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	return in, n.wrap(fh), fl, errno
}

// Guarantee 9 with an I/O error: a FUSE file system in this process fails
// every write with EIO on demand; rotlog reports and retries, and the line
// lands once the device works again.
func TestWriteEIO(t *testing.T) {
	t.Parallel()
	tfs := mountTestFS(t)
	p := startOnTestFS(t, tfs, "app.log")
	io.WriteString(p.stdin, "one\n")
	waitFor(t, "line one", func() bool { return readFileQuiet(filepath.Join(tfs.backing, "app.log")) == "one\n" })
	tfs.fail.Store(true)
	io.WriteString(p.stdin, "two\n")
	waitFor(t, "a report of the I/O error", func() bool { return strings.Contains(p.stderr.String(), "input/output error") })
	tfs.fail.Store(false)
	p.wait(t)
	if got := readFile(t, filepath.Join(tfs.backing, "app.log")); got != "one\ntwo\n" {
		t.Errorf("app.log = %q", got)
	}
	if !strings.Contains(p.stderr.String(), "writing works again") {
		t.Errorf("no report of recovery: %s", p.stderr)
	}
}

// --fsync syncs every write: on a FUSE file system in this process, which
// counts the fsync calls its files get, each batch written brings one.
// Without --fsync, writes bring none. (The data alone, as fsync.txtar
// checks it, cannot tell a real --fsync from a no-op.)
func TestFsyncCalls(t *testing.T) {
	t.Parallel()
	tfs := mountTestFS(t)
	const batches = 5
	for _, tc := range []struct {
		name  string
		fsync bool
	}{{"fsync.log", true}, {"nofsync.log", false}} {
		before := tfs.fsyncs.Load()
		var args []string
		if tc.fsync {
			args = append(args, "--fsync")
		}
		p := startOnTestFS(t, tfs, tc.name, args...)
		var sent string
		for i := range batches {
			// A batch of its own: the next line is sent once this one
			// is in the file.
			l := fmt.Sprintf("line %d\n", i)
			sent += l
			io.WriteString(p.stdin, l)
			waitFor(t, l, func() bool { return readFileQuiet(filepath.Join(tfs.backing, tc.name)) == sent })
		}
		p.wait(t)
		got := tfs.fsyncs.Load() - before
		switch {
		case tc.fsync && got < batches:
			t.Errorf("--fsync: %d fsync calls for %d writes, want one a write at least", got, batches)
		case !tc.fsync && got != 0:
			t.Errorf("without --fsync: %d fsync calls for %d writes, want none", got, batches)
		}
		t.Logf("%s: %d writes, %d fsync calls", tc.name, batches, got)
	}
}

// Rotation where neither renameat2(RENAME_NOREPLACE) nor link(2) exists
// (FAT, exFAT): a FUSE file system in this process refuses both, and
// rotlog renames after checking, under its lock, that the name is free;
// a taken name still gets a numbered variant. (It used to retry the
// rename forever, reading no more input.)
func TestRotateWithoutLink(t *testing.T) {
	t.Parallel()
	tfs := mountTestFS(t)
	tfs.fat.Store(true)
	run := func(start, line string) {
		t.Helper()
		p := startOnTestFS(t, tfs, "app.log", "-when", "S", "--start-time", start)
		io.WriteString(p.stdin, line)
		p.stdin.Close()
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%v; stderr: %s", err, p.stderr)
			}
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-done
			t.Fatalf("rotlog still running 30 s after end of input; stderr: %s", p.stderr)
		}
	}
	run("2026-11-24 10:00:00", "one\n")
	run("2026-11-24 10:00:05", "two\n")
	// The name of 10:00:05 is taken already: the next rotation of that
	// period gets .1.
	if err := os.WriteFile(filepath.Join(tfs.backing, "app.log.2026-11-24_10-00-05"), []byte("someone's\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run("2026-11-24 10:00:09", "three\n")
	for name, want := range map[string]string{
		"app.log.2026-11-24_10-00-00":   "one\n",
		"app.log.2026-11-24_10-00-05":   "someone's\n",
		"app.log.2026-11-24_10-00-05.1": "two\n",
		"app.log":                       "three\n",
	} {
		if got := readFileQuiet(filepath.Join(tfs.backing, name)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}
