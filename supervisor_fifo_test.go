package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSupervisordFIFO runs the README's recipe "supervisord: rotlog reads
// the pipe the program's stdout_logfile names" (Named pipes) under a real
// supervisord: rotlog --input FIFO is one program, started first
// (priority 10) and stopped last; the writer (rotlog-producer, stderr
// redirected to stdout) is another, whose stdout_logfile is the named pipe.
// supervisord itself opens that path for writing at each start of the
// writer and writes what the writer prints into it.
//
// The writer is restarted (supervisorctl restart: supervisord closes the
// pipe and opens it again for the new run), then everything is stopped
// (stop all: the writer first, then rotlog, which drains to the pipe's
// end). Every line each writer run counted must be in the target exactly
// once, whole; no run may meet EPIPE; rotlog must exit 0 with nothing to
// report, and nothing may be left running.
//
// The named pipe is made before supervisord starts, as the recipe says:
// supervisord opens stdout_logfile itself when it starts the writer, a few
// milliseconds after it started rotlog, and would create a plain file
// there if rotlog had not yet made the pipe.
//
// .ci/run installs supervisor and sets ROTLOG_REQUIRE_SUPERVISORD=1.
func TestSupervisordFIFO(t *testing.T) {
	supervisord, err := exec.LookPath("supervisord")
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_SUPERVISORD", "supervisord is not installed (apt-get install supervisor)")
	}
	t.Parallel()
	rotlog, _ := exec.LookPath("rotlog")
	producer, _ := exec.LookPath("rotlog-producer")
	dir := t.TempDir()
	killProcsWith(t, dir)
	records := filepath.Join(dir, "records")
	logs := filepath.Join(dir, "logs")
	for _, d := range []string{records, logs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fifo := filepath.Join(dir, "app.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(logs, "app.log")
	rotlogErr := filepath.Join(dir, "rotlog.err")
	conf := filepath.Join(dir, "supervisord.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`
[unix_http_server]
file=%[1]s/supervisor.sock

[supervisord]
logfile=%[1]s/supervisord.log
pidfile=%[1]s/supervisord.pid
childlogdir=%[1]s
nodaemon=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%[1]s/supervisor.sock

[program:rotlog-app]
command=%[2]s -p %[3]s -when S --input %[4]s
priority=10
stderr_logfile=%[5]s
environment=TZ="UTC",GORACE="atexit_sleep_ms=10"
stopwaitsecs=20

[program:app]
command=%[6]s app %[7]s
stdout_logfile=%[4]s
stdout_logfile_maxbytes=0
redirect_stderr=true
priority=20
environment=GORACE="atexit_sleep_ms=10"
stopwaitsecs=20
`, dir, rotlog, target, fifo, rotlogErr, producer, records)), 0o644)

	sd := exec.Command(supervisord, "-c", conf)
	sdOut := new(syncBuffer)
	sd.Stdout, sd.Stderr = sdOut, sdOut
	if err := sd.Start(); err != nil {
		t.Fatal(err)
	}
	// A supervisord blocked opening the pipe (nothing reading it) does
	// not answer: supervisorctl would wait for good.
	ctl := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		out, _ := exec.CommandContext(ctx, "supervisorctl", append([]string{"-c", conf}, args...)...).CombinedOutput()
		return string(out)
	}
	t.Cleanup(func() {
		ctl("shutdown")
		done := make(chan error, 1)
		go func() { done <- sd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			sd.Process.Kill()
			<-done
		}
	})
	if !pollUntil(time.Minute, func() bool { return strings.Count(ctl("status"), "RUNNING") == 2 }) {
		t.Fatalf("not all programs RUNNING:\n%s\nsupervisord output:\n%s", ctl("status"), sdOut)
	}
	// Lines of the first run in two rotated files at least: the writer
	// is running through the pipe, across boundaries.
	rotated := func(n int) func() bool {
		return func() bool {
			files, _ := filepath.Glob(target + ".*")
			return len(files) >= n
		}
	}
	if !pollUntil(time.Minute, rotated(2)) {
		t.Fatalf("no rotated files; rotlog stderr:\n%s\nsupervisord log:\n%s", readFileQuiet(rotlogErr), readFileQuiet(filepath.Join(dir, "supervisord.log")))
	}
	if out := ctl("restart", "app"); strings.Contains(out, "ERROR") {
		t.Fatalf("restart: %s", out)
	}
	files0, _ := filepath.Glob(target + ".*")
	if !pollUntil(time.Minute, rotated(len(files0)+2)) {
		t.Fatalf("no rotation after the restart; rotlog stderr:\n%s", readFileQuiet(rotlogErr))
	}
	// Reverse priority: app stops first, then rotlog drains the pipe.
	if out := ctl("stop", "all"); strings.Contains(out, "ERROR") {
		t.Fatalf("stop: %s", out)
	}
	if st := ctl("status"); strings.Count(st, "STOPPED") != 2 {
		t.Fatalf("status after stop:\n%s", st)
	}
	sdLog := readFileQuiet(filepath.Join(dir, "supervisord.log"))
	if !strings.Contains(sdLog, "stopped: rotlog-app (exit status 0)") {
		t.Errorf("rotlog did not exit 0 when stopped; supervisord log:\n%s", sdLog)
	}
	if s := readFileQuiet(rotlogErr); s != "" {
		t.Errorf("rotlog stderr:\n%s", s)
	}
	left := procsWith(dir)
	delete(left, sd.Process.Pid)
	if len(left) > 0 {
		t.Errorf("left running after stop all: %v", left)
	}
	if fi, err := os.Stat(fifo); err != nil || fi.Mode().Type() != os.ModeNamedPipe {
		t.Errorf("%s is no longer a named pipe: %v %v", fifo, fi.Mode(), err)
	}

	ents, _ := os.ReadDir(records)
	want := map[string]int{}
	for _, e := range ents {
		n, epipe := readRecord(t, filepath.Join(records, e.Name()))
		want[e.Name()] = n
		if epipe {
			t.Errorf("%s met EPIPE after %d lines", e.Name(), n)
		}
	}
	if len(want) != 2 {
		t.Errorf("%d writer runs recorded, want 2 (one restart)", len(want))
	}
	got := map[string][]int{}
	files, _ := filepath.Glob(target + "*")
	for _, f := range files {
		if strings.HasSuffix(f, ".lock") {
			t.Errorf("lock left behind: %s", f)
			continue
		}
		for _, l := range strings.SplitAfter(readFile(t, f), "\n") {
			if l == "" {
				continue
			}
			fs := strings.Fields(l)
			if len(fs) != 3 || fs[2] != "padding-padding-padding" || !strings.HasSuffix(l, "\n") {
				t.Errorf("%s: torn line %q", filepath.Base(f), l)
				continue
			}
			n, _ := strconv.Atoi(fs[1])
			got[fs[0]] = append(got[fs[0]], n)
		}
	}
	total := 0
	for name, n := range want {
		seen := make([]int, n)
		for _, s := range got[name] {
			if s >= n {
				t.Errorf("%s: line %d beyond the %d it counted", name, s, n)
				continue
			}
			seen[s]++
		}
		bad := 0
		for s, c := range seen {
			if c != 1 {
				if bad++; bad <= 5 {
					t.Errorf("%s: line %d found %d times", name, s, c)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%s: %d of %d lines not found exactly once", name, bad, n)
		}
		total += n
		delete(got, name)
	}
	for name := range got {
		t.Errorf("lines of an unrecorded run %s", name)
	}
	t.Logf("%d writer runs, %d lines written and found once each, in %d files", len(want), total, len(files))
	if t.Failed() {
		t.Logf("supervisord output:\n%s\nsupervisord log:\n%s", sdOut, sdLog)
	}
}
