package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSupervisord runs rotlog under a real supervisord: one program in exec
// mode, one as "sh -c 'exec prog 2>&1 | rotlog ...'", and numprocs=4
// instances of an exec-mode program writing one target, all rotating every
// second. Stopping and restarting programs must lose no line the producers
// wrote before they stopped, and nothing may be left running.
//
// A fourth program is a server that takes 2 s to stop (it goes on writing
// for 2 s after TERM), under the man page's recipe
// "sh -c 'trap : TERM INT; srv 2>&1 | rotlog …'" with stopasgroup:
// supervisord sends TERM to the whole group, the shell waits for its
// pipeline (with "exec srv | exec rotlog" it would die at once, and
// supervisord would take the program for stopped while both run on), rotlog
// with a --drain-timeout longer than the server's stop (and a stopwaitsecs
// longer than that) reads until the server is done. The server must never
// meet EPIPE, every line it wrote must be logged, and nothing may be left
// running once supervisord says STOPPED.
//
// .ci/run installs supervisor and sets ROTLOG_REQUIRE_SUPERVISORD=1, so in CI
// this test cannot be skipped (see skipUnlessRequired).
func TestSupervisord(t *testing.T) {
	supervisord, err := exec.LookPath("supervisord")
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_SUPERVISORD", "supervisord is not installed (apt-get install supervisor)")
	}
	t.Parallel()
	rotlog, _ := exec.LookPath("rotlog")
	producer, _ := exec.LookPath("rotlog-producer")
	dir := t.TempDir()
	records := filepath.Join(dir, "records")
	os.Mkdir(records, 0o755)
	conf := filepath.Join(dir, "supervisord.conf")
	env := `environment=TZ="UTC",GORACE="atexit_sleep_ms=10"`
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

[program:execmode]
command=%[2]s -p %[1]s/exec/app.log -when S -- %[3]s exec %[4]s
%[5]s
stopwaitsecs=20

[program:shpipe]
command=sh -c 'exec %[3]s shpipe %[4]s 2>&1 | %[2]s -p %[1]s/pipe/app.log -when S'
stopasgroup=true
killasgroup=true
%[5]s
stopwaitsecs=20

[program:slowstop]
command=sh -c 'trap : TERM INT; %[3]s slowstop %[4]s 2>&1 | %[2]s -p %[1]s/slow/app.log -when S --drain-timeout 10s'
stopasgroup=true
killasgroup=true
environment=TZ="UTC",GORACE="atexit_sleep_ms=10",ROTLOG_PRODUCER_LINGER="2s"
stopwaitsecs=20

[program:many]
command=%[2]s -p %[1]s/many/app.log -when S -- %[3]s many%%(process_num)d %[4]s
process_name=%%(program_name)s_%%(process_num)d
numprocs=4
%[5]s
stopwaitsecs=20
`, dir, rotlog, producer, records, env)), 0o644)

	sd := exec.Command(supervisord, "-c", conf)
	sdOut := new(syncBuffer)
	sd.Stdout, sd.Stderr = sdOut, sdOut
	if err := sd.Start(); err != nil {
		t.Fatal(err)
	}
	ctl := func(args ...string) string {
		t.Helper()
		out, _ := exec.Command("supervisorctl", append([]string{"-c", conf}, args...)...).CombinedOutput()
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
		// Nothing of this test may be left running.
		if out, err := exec.Command("pgrep", "-af", dir).Output(); err == nil && len(out) > 0 {
			t.Errorf("left running after supervisord shut down:\n%s", out)
		}
	})
	if !pollUntil(time.Minute, func() bool { return strings.Count(ctl("status"), "RUNNING") == 7 }) {
		t.Fatalf("not all programs RUNNING:\n%s\nsupervisord output:\n%s", ctl("status"), sdOut)
	}
	time.Sleep(2500 * time.Millisecond) // let a few per-second rotations happen
	if out := ctl("restart", "execmode", "shpipe", "many:many_0"); strings.Contains(out, "ERROR") {
		t.Fatalf("restart: %s", out)
	}
	time.Sleep(1500 * time.Millisecond)
	if out := ctl("stop", "all"); strings.Contains(out, "ERROR") {
		t.Fatalf("stop: %s", out)
	}
	if st := ctl("status"); strings.Count(st, "STOPPED") != 7 {
		t.Fatalf("status after stop:\n%s", st)
	}

	// Every line each producer run counted is in its target exactly once.
	ents, _ := os.ReadDir(records)
	if len(ents) != 10 { // 7 programs started, 3 of them twice
		t.Errorf("%d producer runs recorded, want 10", len(ents))
	}
	want := map[string]int{}
	for _, e := range ents {
		n, epipe := readRecord(t, filepath.Join(records, e.Name()))
		want[e.Name()] = n
		if epipe {
			t.Errorf("%s met EPIPE after %d lines: its rotlog stopped reading before it had finished", e.Name(), n)
		}
	}
	for _, target := range []string{"exec", "pipe", "many", "slow"} {
		got := map[string][]int{}
		files, _ := filepath.Glob(filepath.Join(dir, target, "app.log*"))
		if len(files) < 3 {
			t.Errorf("%s: %d files, want rotations every second", target, len(files))
		}
		for _, f := range files {
			if strings.HasSuffix(f, ".lock") {
				t.Errorf("lock left behind: %s", f)
				continue
			}
			b, _ := os.ReadFile(f)
			for _, l := range strings.SplitAfter(string(b), "\n") {
				if l == "" {
					continue
				}
				fs := strings.Fields(l)
				if len(fs) != 3 || fs[2] != "padding-padding-padding" || !strings.HasSuffix(l, "\n") {
					t.Errorf("%s: torn line %q", f, l)
					continue
				}
				n, _ := strconv.Atoi(fs[1])
				got[fs[0]] = append(got[fs[0]], n)
			}
		}
		for name, seqs := range got {
			n, ok := want[name]
			if !ok {
				t.Errorf("%s: lines of an unrecorded run %s", target, name)
				continue
			}
			seen := make([]int, n)
			for _, s := range seqs {
				if s >= n {
					t.Errorf("%s: %s line %d beyond the %d it counted", target, name, s, n)
					continue
				}
				seen[s]++
			}
			for s, c := range seen {
				if c != 1 {
					t.Errorf("%s: %s line %d found %d times", target, name, s, c)
				}
			}
			delete(want, name)
		}
	}
	for name, n := range want {
		if n > 0 {
			t.Errorf("no line of %s (%d written) in any target", name, n)
		}
	}
	if t.Failed() {
		t.Logf("supervisord output:\n%s", sdOut.String())
		logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, b)
		}
	}
}
