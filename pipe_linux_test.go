package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUnwrittenCountsPipe checks that when a write fails for good, the
// report says what it read and could not write, and how much the input
// pipe still held, unread: left there for whoever reads the pipe next (a
// restarted logger), not consumed to be counted. The producer writes, in
// one go, more than one read takes and less than the pipe holds, so that
// most of it is still in the pipe when the first batch fails; the report's
// two figures add up to every byte the pipe accepted, and the bytes left
// unread can still be read from the pipe.
func TestUnwrittenCountsPipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cmd := bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log")
	cmd.Stdin = r
	rp := start(t, cmd, false)
	// The next reader's end, read once rotlog has gone and the writer closed.
	r2, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	r.Close()
	app := filepath.Join(dir, "app.log")
	if _, err := w.WriteString("a\n"); err != nil {
		t.Fatal(err)
	}
	if !pollUntil(stopLimit, func() bool { return readFileQuiet(app) == "a\n" }) {
		t.Fatalf("the first line was not written; stderr: %s", rp.stderr)
	}
	// A directory where the file goes: no write can succeed.
	if err := os.Remove(app); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	size, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	const lineLen = 64
	n := min(3*readSize, size-readSize) / lineLen
	if n*lineLen <= readSize {
		t.Skipf("the pipe holds %d bytes: too little to leave data in it after a read", size)
	}
	data := []byte(strings.Repeat(strings.Repeat("x", lineLen-1)+"\n", n))
	if k, err := w.Write(data); err != nil || k != len(data) {
		t.Fatalf("write into the pipe: %d, %v; want all %d bytes taken", k, err, len(data))
	}
	if !rp.exited(stopLimit) {
		t.Fatalf("rotlog still running %s after its writes failed for good; stderr: %s", stopLimit, rp.stderr)
	}
	w.Close()
	m := regexp.MustCompile(`stopping with (\d+) bytes \((\d+) lines\) not written; (\d+) more bytes are left unread in the input pipe`).FindStringSubmatch(rp.stderr.String())
	if m == nil {
		t.Fatalf("stderr does not report what was not written and what was left unread: %s", rp.stderr)
	}
	read, _ := strconv.Atoi(m[1])
	lines, _ := strconv.Atoi(m[2])
	unread, _ := strconv.Atoi(m[3])
	if read+unread != len(data) || lines != read/lineLen || unread == 0 {
		t.Errorf("reported %d bytes (%d lines) not written and %d unread; want %d bytes in all, %d a line, some unread", read, lines, unread, len(data), lineLen)
	}
	// What it left is still there for the next reader.
	left, err := io.ReadAll(r2)
	if err != nil || len(left) != unread {
		t.Errorf("the next reader got %d bytes (%v), want the %d left unread", len(left), err, unread)
	}
}

// TestKillLeavesStdinBlocking checks that a rotlog killed with SIGKILL
// (no chance to undo anything) leaves the standard input it shared with
// others as it found it: it reads the pipe through an open file of its own,
// so the O_NONBLOCK it needs is never set on the one it was given, which a
// shell or a sibling reading the same pipe would otherwise inherit.
func TestKillLeavesStdinBlocking(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	cmd := bareRotlogCmd(t, dir, "rotlog", nil, "-p", "app.log")
	cmd.Stdin = r // its open file, shared with this process
	rp := start(t, cmd, false)
	if _, err := w.WriteString("a\n"); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(dir, "app.log")
	if !pollUntil(stopLimit, func() bool { return readFileQuiet(app) == "a\n" }) {
		t.Fatalf("the line was not written; stderr: %s", rp.stderr)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !rp.exited(stopLimit) {
		t.Fatal("rotlog did not exit on SIGKILL")
	}
	sc, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	var ferr error
	sc.Control(func(fd uintptr) { flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0) })
	if ferr != nil {
		t.Fatal(ferr)
	}
	if flags&unix.O_NONBLOCK != 0 {
		t.Error("the standard input rotlog was given is left non-blocking")
	}
}
