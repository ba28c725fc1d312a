//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// testFS is a loopback FUSE file system served by the test process over a
// temporary directory: its files fail writes with EIO while fail is set,
// and count the fsync calls they get. It refuses FUSE passthrough, so every
// write and every fsync reaches it.
//
// Its locks are the mount's own: the server does not ask for the kernel's
// lock requests (FUSE_POSIX_LOCKS, FUSE_FLOCK_LOCKS), so the kernel keeps
// flock(2) and fcntl locks on the mount's inodes, as for sshfs and bindfs:
// two mounts of one directory (mountTestFSWith, backing) do not see each
// other's locks, as two hosts do not. mountOptions.sharedLocks passes them
// to the backing files instead, as a file system with a lock manager does.
type testFS struct {
	backing, mnt string
	fail         atomic.Bool
	fsyncs       atomic.Int64 // fsync and fdatasync calls on files
	fat          atomic.Bool  // refuse link(2) and renames with flags, as FAT does
	noXattr      atomic.Bool  // refuse extended attributes (ENOTSUP), as FAT, NFSv3 or ext4 without user_xattr do
	noUnlink     atomic.Value // string: a name whose removal fails with EPERM
	// stallRename, while set, holds every rename through this mount until
	// it is freed, as a mount whose server stopped answering does.
	stallRename atomic.Pointer[stall]
	// stallWrite, while set, holds every write to a file through this
	// mount, as a slow link does.
	stallWrite atomic.Pointer[stall]
}

// A stall holds the operations that meet it: entered is closed when the
// first arrives, and they go on once free is called. An interrupt does not
// end the wait (a signal to the caller would end the stall a test relies
// on); the test's clean-up frees it.
type stall struct {
	entered, release chan struct{}
	once, freed      sync.Once
}

func (s *stall) free() { s.freed.Do(func() { close(s.release) }) }

func newStall() *stall { return &stall{entered: make(chan struct{}), release: make(chan struct{})} }

func (s *stall) wait() {
	s.once.Do(func() { close(s.entered) })
	<-s.release
}

// mountOptions are the switches of a testFS that are set when it is
// mounted.
type mountOptions struct {
	// backing is the directory served; "" makes a new one. A second mount
	// of another testFS's backing directory is a second host's view of a
	// shared file system.
	backing string
	// sharedLocks passes flock(2) and fcntl locks to the backing files
	// (FUSE_FLOCK_LOCKS and FUSE_POSIX_LOCKS, served by go-fuse's
	// loopback file, which takes them on its descriptor of the backing
	// file), so every mount of one directory sees them.
	sharedLocks bool
	// cache lets the kernel keep what it learnt of names and attributes
	// (entries found and not found, sizes, times) for this long instead
	// of asking the server each time, as sshfs and NFS clients do: a
	// change made through another mount is seen up to cache late.
	cache time.Duration
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
	return mountTestFSWith(t, mountOptions{})
}

// mountTestFSWith is mountTestFS with the switches of o.
func mountTestFSWith(t *testing.T, o mountOptions) *testFS {
	t.Helper()
	tfs := &testFS{backing: o.backing, mnt: t.TempDir()}
	if tfs.backing == "" {
		tfs.backing = t.TempDir()
	}
	rn, err := fs.NewLoopbackRoot(tfs.backing)
	if err != nil {
		t.Fatal(err)
	}
	root := &faultNode{rn.(*fs.LoopbackNode), tfs}
	opts := &fs.Options{MountOptions: fuse.MountOptions{DirectMount: true, EnableLocks: o.sharedLocks}}
	if o.cache > 0 {
		opts.EntryTimeout, opts.AttrTimeout, opts.NegativeTimeout = &o.cache, &o.cache, &o.cache
	}
	server, err := fs.Mount(tfs.mnt, root, opts)
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "cannot mount a FUSE file system (%v): needs root and /dev/fuse", err)
	}
	t.Cleanup(func() {
		// A child this process forks keeps its copy of a descriptor into
		// the mount until it execs, and the mount is busy meanwhile.
		for i := 0; server.Unmount() != nil; i++ {
			if i == 100 {
				unix.Unmount(tfs.mnt, unix.MNT_DETACH)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	// Before the unmount (clean-ups run last first): nothing stays held.
	t.Cleanup(func() {
		for _, p := range []*atomic.Pointer[stall]{&tfs.stallRename, &tfs.stallWrite} {
			if s := p.Load(); s != nil {
				s.free()
			}
		}
	})
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
	if s := f.tfs.stallWrite.Load(); s != nil {
		s.wait()
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

// Rename refuses RENAME_NOREPLACE and the other flags while fat is set,
// and waits while stallRename is set.
func (n *faultNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if n.tfs.fat.Load() && flags != 0 {
		return syscall.EINVAL
	}
	if s := n.tfs.stallRename.Load(); s != nil {
		s.wait()
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
