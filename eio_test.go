//go:build linux

package main

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// faultNode is a loopback file system node whose files fail writes with
// EIO while fail is set.
type faultNode struct {
	*fs.LoopbackNode
	fail *atomic.Bool
}

// WrapChild makes every node below the root a faultNode too.
func (n *faultNode) WrapChild(ctx context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if ln, ok := ops.(*fs.LoopbackNode); ok {
		return &faultNode{ln, n.fail}
	}
	return ops
}

type faultFile struct {
	*fs.LoopbackFile
	fail *atomic.Bool
}

func (f *faultFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if f.fail.Load() {
		return 0, syscall.EIO
	}
	return f.LoopbackFile.Write(ctx, data, off)
}

// PassthroughFd refuses FUSE passthrough, which would let the kernel
// write to the backing file without asking Write.
func (f *faultFile) PassthroughFd() (int, bool) { return 0, false }

func (n *faultNode) wrap(fh fs.FileHandle) fs.FileHandle {
	if lf, ok := fh.(*fs.LoopbackFile); ok {
		return &faultFile{lf, n.fail}
	}
	return fh
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
	backing, mnt := t.TempDir(), t.TempDir()
	fail := new(atomic.Bool)
	rn, err := fs.NewLoopbackRoot(backing)
	if err != nil {
		t.Fatal(err)
	}
	root := &faultNode{rn.(*fs.LoopbackNode), fail}
	server, err := fs.Mount(mnt, root, &fs.Options{MountOptions: fuse.MountOptions{DirectMount: true}})
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "cannot mount a FUSE file system (%v): needs root and /dev/fuse", err)
	}
	t.Cleanup(func() { server.Unmount() })

	p := startRotlog(t, mnt, "rotlog", nil, "-p", "app.log")
	io.WriteString(p.stdin, "one\n")
	waitFor(t, "line one", func() bool { return readFileQuiet(filepath.Join(backing, "app.log")) == "one\n" })
	fail.Store(true)
	io.WriteString(p.stdin, "two\n")
	waitFor(t, "a report of the I/O error", func() bool { return strings.Contains(p.stderr.String(), "input/output error") })
	fail.Store(false)
	p.wait(t)
	if got := readFile(t, filepath.Join(backing, "app.log")); got != "one\ntwo\n" {
		t.Errorf("app.log = %q", got)
	}
	if !strings.Contains(p.stderr.String(), "writing works again") {
		t.Errorf("no report of recovery: %s", p.stderr)
	}
}
