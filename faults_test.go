//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
	"golang.org/x/sys/unix"
)

// A target directory removed while rotlog runs is created again, and the
// loss of the open file is reported instead of writing into a file that no
// longer has a name.
func TestTargetDirectoryRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startRotlog(t, dir, "rotlog", nil, "-p", "logs/app.log")
	io.WriteString(p.stdin, "one\n")
	app := filepath.Join(dir, "logs", "app.log")
	waitFor(t, "line one", func() bool { return readFileQuiet(app) == "one\n" })
	if err := os.RemoveAll(filepath.Join(dir, "logs")); err != nil {
		t.Fatal(err)
	}
	io.WriteString(p.stdin, "two\n")
	p.wait(t)
	if got := readFile(t, app); got != "two\n" {
		t.Errorf("app.log = %q, want the line written after the removal", got)
	}
	if !strings.Contains(p.stderr.String(), "was removed while open") {
		t.Errorf("no report: %s", p.stderr)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory, or skips the
// test where mounting is refused (it needs root, as in CI, where
// ROTLOG_REQUIRE_ROOT makes the refusal a failure).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "cannot mount a small tmpfs to fill (%v): a full disk is tested as root", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// Guarantee 9 on a full disk: the write is retried and reported, input is
// held, and once space is freed every byte lands, once, in order.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, 1<<20)
	filler := filepath.Join(dir, "filler")
	// Leave about 64 KiB free (tmpfs counts whole pages).
	if err := os.WriteFile(filler, make([]byte, 1<<20-64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log")
	var in bytes.Buffer
	for i := range 4000 { // 4000 lines of 60 bytes: 240 KB, more than is free
		fmt.Fprintf(&in, "line %04d %s\n", i, strings.Repeat("x", 49))
	}
	go func() {
		p.stdin.Write(in.Bytes())
		p.stdin.Close()
	}()
	waitFor(t, "a report of the full disk", func() bool { return strings.Contains(p.stderr.String(), "no space left on device") })
	os.Remove(filler)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%v; stderr: %s", err, p.stderr)
	}
	if got := readFile(t, filepath.Join(dir, "app.log")); got != in.String() {
		t.Errorf("app.log holds %d bytes, want the %d of the input, in order", len(got), in.Len())
	}
	if !strings.Contains(p.stderr.String(), "writing works again") {
		t.Errorf("no report of recovery: %s", p.stderr)
	}
}

// fsImmutableFl is FS_IMMUTABLE_FL of linux/fs.h (chattr +i).
const fsImmutableFl = 0x10

// A directory that refuses new files (immutable, which binds root too):
// rotation and creation fail, are reported and retried, and recover.
func TestDirectoryRefusesFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	os.Mkdir(logs, 0o755)
	setImmutable := func(on bool) error {
		f, err := os.Open(logs)
		if err != nil {
			return err
		}
		defer f.Close()
		flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
		if err != nil {
			return err
		}
		if on {
			flags |= fsImmutableFl
		} else {
			flags &^= fsImmutableFl
		}
		return unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags))
	}
	if err := setImmutable(true); err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_ROOT", "cannot make a directory immutable (%v): chattr +i needs root and a file system that has it (ext4, tmpfs, btrfs, xfs)", err)
	}
	t.Cleanup(func() { setImmutable(false) })
	p := startRotlog(t, dir, "rotlog", nil, "-p", "logs/app.log")
	io.WriteString(p.stdin, "held\n")
	waitFor(t, "a report", func() bool { return strings.Contains(p.stderr.String(), "operation not permitted") })
	if err := setImmutable(false); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	if got := readFile(t, filepath.Join(logs, "app.log")); got != "held\n" {
		t.Errorf("app.log = %q", got)
	}
}

// The clock jumping back an hour, then forward again, and two days ahead:
// no rotation over an existing file, no file name used twice, nothing lost.
func TestClockJumps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := func(start, line string) {
		t.Helper()
		cmd := rotlogCmd(t, dir, "rotlog", nil, "-p", "app.log", "-when", "H", "--start-time", start)
		cmd.Stdin = strings.NewReader(line + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", start, err, out)
		}
	}
	run("2026-11-25 12:30:00", "a 12:30")
	run("2026-11-25 11:30:00", "b 11:30, the clock went back")
	run("2026-11-25 13:30:00", "c 13:30")
	run("2026-11-25 12:45:00", "d 12:45, back again")
	run("2026-11-27 13:30:00", "e two days later")
	want := map[string]string{
		// The file of 12:00 took the line of 11:30: its period had not ended.
		"app.log.2026-11-25_12": "a 12:30\nb 11:30, the clock went back\n",
		"app.log.2026-11-25_13": "c 13:30\nd 12:45, back again\n",
		"app.log":               "e two days later\n",
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(want) {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("files %v, want %d", names, len(want))
	}
	for name, w := range want {
		if got := readFile(t, filepath.Join(dir, name)); got != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
}

// Pipelines that would cut periods differently on one target are refused
// (exit 2, before reading input) while another pipeline writes it, with a
// message naming each difference; the same settings are welcome.
func TestConflictingSettings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "H")
	io.WriteString(first.stdin, "first\n")
	waitFor(t, "the first line", func() bool { return readFileQuiet(filepath.Join(dir, "app.log")) == "first\n" })
	for _, tc := range []struct {
		args []string
		diff string
	}{
		{[]string{"-when", "D"}, "when hour there, day here; suffix %Y-%m-%d_%H there, %Y-%m-%d here"},
		{[]string{"-when", "H", "--suffix", "%Y%m%d%H"}, "suffix %Y-%m-%d_%H there, %Y%m%d%H here"},
		{[]string{"-when", "H", "--tz", "America/New_York"}, "zone local UTC+0/UTC+0 there, America/New_York here"},
		{[]string{"-when", "H", "--interval", "2"}, "interval 1 there, 2 here"},
	} {
		cmd := rotlogCmd(t, dir, "rotlog", nil, append([]string{"-p", "app.log"}, tc.args...)...)
		cmd.Stdin = strings.NewReader("must not be written\n")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("%v: %v, want exit 2", tc.args, err)
		}
		if !strings.Contains(string(out), "other settings ("+tc.diff+")") {
			t.Errorf("%v: %s", tc.args, out)
		}
	}
	same := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "hour")
	io.WriteString(same.stdin, "same\n")
	same.wait(t)
	first.wait(t)
	if got := readFile(t, filepath.Join(dir, "app.log")); got != "first\nsame\n" {
		t.Errorf("app.log = %q", got)
	}
}

// A directory of a template's path that is a planted symbolic link is
// followed only with a warning naming it and where it leads.
func TestTemplateThroughLinkedDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	elsewhere := t.TempDir()
	os.Mkdir(filepath.Join(dir, "logs"), 0o755)
	os.Symlink(elsewhere, filepath.Join(dir, "logs", "2026"))
	p := startRotlog(t, dir, "rotlog", nil, "-p", "logs/%Y/%m.log", "--start-time", "2026-11-25 12:00:00")
	io.WriteString(p.stdin, "line\n")
	p.wait(t)
	if !strings.Contains(p.stderr.String(), "warning: logs/2026 is a symbolic link to "+elsewhere) {
		t.Errorf("no warning: %q", p.stderr)
	}
	if got := readFile(t, filepath.Join(elsewhere, "11.log")); got != "line\n" {
		t.Errorf("11.log = %q", got)
	}
}

// A real full disk (a small tmpfs) under two pipelines rotating every
// second: a batch written in part is finished in the same file before
// anything else is written there, so no line is torn or split between two
// files, the line of one pipeline never gets the other's appended in its
// middle, and no empty file is made while the disk is full.
func TestDiskFullManyPipelines(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, 2<<20)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 2<<20-96<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 2
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "S", "-v")
	}
	sent := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			// 1500 lines of up to 600 bytes, 20 to a batch: about 450 KB a
			// pipeline, more than is free at first and less than is free
			// once the filler is gone.
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			seq := 0
			for ; seq < 1500; seq++ {
				if _, err := io.WriteString(p.stdin, line(i, seq, time.Now(), 20+rng.IntN(580))); err != nil {
					t.Errorf("pipeline %d: %v", i, err)
					break
				}
				if seq%20 == 19 {
					time.Sleep(5 * time.Millisecond) // spread over boundaries
				}
			}
			mu.Lock()
			sent[i] = seq
			mu.Unlock()
			p.stdin.Close()
		})
	}
	for i, p := range procs {
		waitFor(t, fmt.Sprintf("pipeline %d to report the full disk", i), func() bool {
			return strings.Contains(p.stderr.String(), "no space left on device")
		})
	}
	os.Remove(filler)
	wg.Wait()
	for _, p := range procs {
		if err := p.cmd.Wait(); err != nil {
			t.Fatalf("%v; stderr: %s", err, p.stderr)
		}
	}
	pat, err := pattern.Compile("app.log", pattern.Options{When: "S", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range checkTarget(t, dir, pat, sent) {
		if fi, err := os.Stat(f.path); err == nil && fi.Size() == 0 {
			t.Errorf("%s is empty: made while the disk was full", f.path)
		}
	}
	if t.Failed() {
		for i, p := range procs {
			t.Logf("pipeline %d stderr:\n%s", i, p.stderr)
		}
	}
}

// %{host} in the pattern is the host's short name: each host of a shared
// directory writes a target of its own without a shell.
func TestHostInPattern(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startRotlog(t, dir, "rotlog", nil, "-p", "logs/%{host}/app.log")
	io.WriteString(p.stdin, "one\n")
	p.wait(t)
	host := shortHostname()
	if host == "" {
		t.Fatal("no host name here")
	}
	if got := readFile(t, filepath.Join(dir, "logs", host, "app.log")); got != "one\n" {
		t.Errorf("logs/%s/app.log = %q", host, got)
	}
}
