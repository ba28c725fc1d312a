package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestNginxFIFO runs a real nginx (Debian's package) in the foreground on a
// loopback port, from a config of its own, whose access_log is the named
// pipe of rotlog --input (README: "Named pipes"). Four clients send
// requests, each with a query of its own, while nginx reloads (HUP to its
// master: new workers open the pipe again, old ones finish) and while
// rotlog is restarted on the same pipe (nginx keeps its write end open
// throughout). Then nginx stops gracefully (QUIT) and rotlog drains to the
// end of the pipe. Every request answered must be in the target's files
// exactly once, whole, and nothing of the test may be left running.
//
// During the restart the test holds a read end of the pipe itself, as a
// supervisor's file-descriptor holder (s6-fdholder) would: with no reader
// at all, nginx's writes would fail with EPIPE and those lines be lost.
//
// .ci/run installs nginx and sets ROTLOG_REQUIRE_NGINX=1, so in CI this
// test cannot be skipped.
func TestNginxFIFO(t *testing.T) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		nginx, err = exec.LookPath("/usr/sbin/nginx")
	}
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_NGINX", "nginx is not installed (apt-get install nginx): %v", err)
	}
	t.Parallel()
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{logs, tmp} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	killProcsWith(t, dir) // whatever of this test is left, at the end
	fifo := filepath.Join(dir, "access.fifo")
	target := filepath.Join(logs, "access.log")

	var rotlogs []*started
	startReader := func() (*exec.Cmd, *started) {
		t.Helper()
		cmd := rotlogCmd(t, dir, "rotlog", nil, "--input", fifo, "-p", target, "-when", "S", "--drain-timeout", "2s")
		r := start(t, cmd, false)
		rotlogs = append(rotlogs, r)
		if !pollUntil(stopLimit, func() bool { return holds(cmd.Process.Pid, fifo) }) {
			t.Fatalf("rotlog does not hold %s; stderr:\n%s", fifo, r.stderr)
		}
		return cmd, r
	}
	stopReader := func(cmd *exec.Cmd, r *started) {
		t.Helper()
		cmd.Process.Signal(syscall.SIGTERM)
		if !r.exited(stopLimit) || r.status() != 0 {
			t.Fatalf("rotlog after TERM: exited %v, status %d; stderr:\n%s", r.gone(), r.status(), r.stderr)
		}
	}
	rcmd, r := startReader()

	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // the workers open the pipe too, at a reload
	}
	port := freePort(t)
	conf := filepath.Join(dir, "nginx.conf")
	errorLog := filepath.Join(dir, "error.log")
	os.WriteFile(conf, []byte(fmt.Sprintf(`%[1]s
worker_processes 2;
pid %[2]s/nginx.pid;
error_log %[3]s notice;
events { worker_connections 256; }
http {
	client_body_temp_path %[4]s/body;
	proxy_temp_path %[4]s/proxy;
	fastcgi_temp_path %[4]s/fastcgi;
	uwsgi_temp_path %[4]s/uwsgi;
	scgi_temp_path %[4]s/scgi;
	log_format rl '$request_uri $status $pid';
	access_log %[5]s rl;
	server {
		listen 127.0.0.1:%[6]d;
		location / { return 200 "ok\n"; }
	}
}
`, user, dir, errorLog, tmp, fifo, port)), 0o644)
	ncmd := exec.Command(nginx, "-e", errorLog, "-p", dir, "-c", conf, "-g", "daemon off;")
	ncmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	n := start(t, ncmd, false)

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	var mu sync.Mutex
	answered := map[string]bool{} // request URI -> answered 200
	var failed []string
	var seq atomic.Int64
	get := func() bool {
		uri := fmt.Sprintf("/?r=%d", seq.Add(1))
		resp, err := client.Get(base + uri)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", uri, err))
			return false
		}
		answered[uri] = true
		return true
	}
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(answered)
	}
	if !pollUntil(stopLimit, get) {
		t.Fatalf("nginx does not answer; stderr:\n%s\nerror.log:\n%s", n.stderr, readFileQuiet(errorLog))
	}
	mu.Lock()
	failed = nil // tries before nginx listened
	mu.Unlock()

	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for range 4 {
		load.Go(func() {
			for {
				select {
				case <-stopLoad:
					return
				default:
					get()
				}
			}
		})
	}
	// waitMore waits for k more requests answered (a count, not a time).
	waitMore := func(k int, what string) {
		t.Helper()
		want := count() + k
		if !pollUntil(2*stopLimit, func() bool { return count() >= want }) {
			t.Fatalf("%s: %d requests answered, want %d; error.log:\n%s", what, count(), want, readFileQuiet(errorLog))
		}
	}
	waitMore(1000, "before the reload")

	// A reload: the master reads the config again, opens the pipe again
	// and starts new workers; the old ones finish their requests.
	reloads := func() int { return strings.Count(readFileQuiet(errorLog), "(SIGHUP) received") }
	ncmd.Process.Signal(syscall.SIGHUP)
	if !pollUntil(stopLimit, func() bool {
		return reloads() == 1 && strings.Count(readFileQuiet(errorLog), "start worker processes") == 2
	}) {
		t.Fatalf("nginx did not reload; error.log:\n%s", readFileQuiet(errorLog))
	}
	waitMore(1000, "after the reload")

	// A rotlog restart on the same pipe, nginx writing on.
	holder, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	gapStart, before := time.Now(), count()
	stopReader(rcmd, r)
	stopped := time.Now()
	during := count()
	rcmd, r = startReader()
	holder.Close()
	t.Logf("rotlog restart: old one stopped in %v (drain 2s), new one reading %v later; %d requests answered meanwhile (%d while none read)",
		stopped.Sub(gapStart).Round(time.Millisecond), time.Since(stopped).Round(time.Millisecond), count()-before, count()-during)
	waitMore(1000, "after the rotlog restart")

	close(stopLoad)
	load.Wait()
	ncmd.Process.Signal(syscall.SIGQUIT)
	if !n.exited(stopLimit) {
		t.Fatalf("nginx did not stop after QUIT; error.log:\n%s", readFileQuiet(errorLog))
	}
	// nginx is gone, and with it the last writer: the drain ends at the
	// pipe's end.
	stopReader(rcmd, r)
	if !pollUntil(stopLimit, func() bool { return len(procsWith(dir)) == 0 }) {
		t.Errorf("left running %s after the stop: %v", stopLimit, procsWith(dir))
	}

	logged := map[string]int{}
	lines := 0
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
			if len(fs) != 3 || fs[1] != "200" || !strings.HasSuffix(l, "\n") {
				t.Errorf("%s: torn line %q", filepath.Base(f), l)
				continue
			}
			logged[fs[0]]++
			lines++
		}
	}
	var missing, doubled []string
	for uri := range answered {
		switch logged[uri] {
		case 0:
			missing = append(missing, uri)
		case 1:
		default:
			doubled = append(doubled, uri)
		}
	}
	for uri := range logged {
		if !answered[uri] {
			t.Errorf("logged but never answered: %s", uri)
		}
	}
	t.Logf("requests answered: %d; lines found: %d in %d files; failed: %d", len(answered), lines, len(files), len(failed))
	if len(failed) > 0 {
		t.Errorf("%d requests failed, first: %s", len(failed), failed[0])
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d requests answered are not in the log, e.g. %q", len(missing), len(answered), missing[:min(len(missing), 5)])
	}
	if len(doubled) > 0 {
		t.Errorf("%d requests logged more than once, e.g. %q", len(doubled), doubled[:min(len(doubled), 5)])
	}
	for i, r := range rotlogs {
		if s := r.stderr.String(); s != "" {
			t.Logf("rotlog %d stderr:\n%s", i+1, s)
		}
	}
	if t.Failed() {
		t.Logf("nginx stderr:\n%s\nerror.log:\n%s", n.stderr, readFileQuiet(errorLog))
	}
}
