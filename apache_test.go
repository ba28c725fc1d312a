package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestApacheGraceful runs a real Apache httpd (Debian's apache2) on a
// loopback port, from a config of its own, with a piped CustomLog into
// rotlog --drain-timeout 0 (SPEC: Apache sends TERM to its piped loggers at
// every graceful restart, while its old children still finish requests and
// log them into the old pipe). Slow CGI requests are in flight across two
// graceful restarts while a load generator sends fast ones; then httpd is
// stopped. Every request answered must be in the log exactly once, and no
// httpd or rotlog of the test may be left running.
//
// .ci/run installs apache2 and sets ROTLOG_REQUIRE_APACHE=1, so in CI this
// test cannot be skipped.
func TestApacheGraceful(t *testing.T) {
	httpd, err := exec.LookPath("apache2")
	if err != nil {
		httpd, err = exec.LookPath("/usr/sbin/apache2")
	}
	const modules = "/usr/lib/apache2/modules"
	if err == nil && !exists(filepath.Join(modules, "mod_cgi.so")) {
		err = fmt.Errorf("%s/mod_cgi.so is missing", modules)
	}
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_APACHE", "apache2 is not installed (apt-get install apache2): %v", err)
	}
	t.Parallel()
	rotlog, err := exec.LookPath("rotlog")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	docs := filepath.Join(dir, "htdocs")
	cgi := filepath.Join(dir, "cgi-bin")
	inflight := filepath.Join(dir, "inflight")
	for _, d := range []string{logs, docs, cgi, inflight} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	user := ""
	if os.Geteuid() == 0 {
		// Apache's children run as www-data: let them in, and let the CGI
		// say it has started. (The piped loggers run as root, as the
		// parent does.)
		user = "User www-data\nGroup www-data\n"
		os.Chmod(filepath.Dir(dir), 0o755)
		os.Chmod(dir, 0o755)
		os.Chmod(inflight, 0o777)
	}
	killProcsWith(t, dir) // whatever of this test is left, at the end

	os.WriteFile(filepath.Join(docs, "fast.txt"), []byte("fast\n"), 0o644)
	// slow.sh?s-R-I-D answers after D seconds, having said it started.
	os.WriteFile(filepath.Join(cgi, "slow.sh"), []byte(fmt.Sprintf(`#!/bin/sh
: >%s/"$QUERY_STRING"
sleep "${QUERY_STRING##*-}"
printf 'Content-Type: text/plain\r\n\r\nslow %%s\n' "$QUERY_STRING"
`, inflight)), 0o755)

	port := freePort(t)
	conf := filepath.Join(dir, "httpd.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`ServerRoot %[1]s
DefaultRuntimeDir %[1]s
PidFile %[1]s/httpd.pid
ServerName 127.0.0.1
Listen 127.0.0.1:%[2]d
LoadModule mpm_prefork_module %[3]s/mod_mpm_prefork.so
LoadModule authz_core_module %[3]s/mod_authz_core.so
LoadModule alias_module %[3]s/mod_alias.so
LoadModule cgi_module %[3]s/mod_cgi.so
%[4]s
StartServers 2
MinSpareServers 2
MaxSpareServers 8
MaxRequestWorkers 40
KeepAlive Off
ErrorLog %[1]s/error.log
LogLevel notice
DocumentRoot %[5]s
<Directory />
	Require all granted
</Directory>
ScriptAlias /cgi-bin/ %[6]s/
LogFormat "%%U%%q %%>s %%P" rl
CustomLog "|/usr/bin/env GORACE=atexit_sleep_ms=10 TZ=UTC %[7]s -p %[8]s/access.log -w S --drain-timeout 0" rl
`, dir, port, modules, user, docs, cgi, rotlog, logs)), 0o644)

	errorLog := filepath.Join(dir, "error.log")
	ctl := func(verb string) {
		t.Helper()
		cmd := exec.Command(httpd, "-f", conf, "-k", verb)
		cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=10", "TZ=UTC")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apache2 -k %s: %v\n%s\nerror.log:\n%s", verb, err, out, readFileQuiet(errorLog))
		}
	}
	// resumed counts Apache's "resuming normal operations": once at start,
	// once more after each restart.
	resumed := func() int { return strings.Count(readFileQuiet(errorLog), "resuming normal operations") }
	ctl("start")
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			exec.Command(httpd, "-f", conf, "-k", "stop").Run()
		}
	})

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Minute}
	var mu sync.Mutex
	answered := map[string]bool{} // request path?query -> answered 200
	var failed []string
	get := func(uri string) bool {
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
	var seq atomic.Int64
	fast := func() bool { return get(fmt.Sprintf("/fast.txt?f-%d", seq.Add(1))) }
	if !pollUntil(stopLimit, func() bool { return resumed() == 1 }) {
		t.Fatalf("httpd did not start; error.log:\n%s", readFileQuiet(errorLog))
	}
	if !pollUntil(stopLimit, func() bool { return fast() }) {
		t.Fatalf("httpd does not answer; error.log:\n%s", readFileQuiet(errorLog))
	}
	mu.Lock()
	failed = nil // tries before httpd listened
	mu.Unlock()

	// The load generator: 4 clients, fast requests, until told to stop.
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for range 4 {
		load.Go(func() {
			for {
				select {
				case <-stopLoad:
					return
				default:
					fast()
				}
			}
		})
	}
	// Slow requests, each round in flight across a graceful restart.
	var slow sync.WaitGroup
	for round := 1; round <= 2; round++ {
		var ids []string
		for i := range 6 {
			id := fmt.Sprintf("s-%d-%d-%d", round, i, 3+i%4) // 3 to 6 s
			ids = append(ids, id)
			slow.Go(func() { get("/cgi-bin/slow.sh?" + id) })
		}
		if !pollUntil(stopLimit, func() bool {
			for _, id := range ids {
				if !exists(filepath.Join(inflight, id)) {
					return false
				}
			}
			return true
		}) {
			t.Fatalf("round %d: slow requests did not start; error.log:\n%s", round, readFileQuiet(errorLog))
		}
		ctl("graceful")
		if !pollUntil(stopLimit, func() bool { return resumed() == round+1 }) {
			t.Fatalf("graceful restart %d did not finish; error.log:\n%s", round, readFileQuiet(errorLog))
		}
	}
	slow.Wait()
	close(stopLoad)
	load.Wait()
	ctl("stop")
	stopped = true
	if !pollUntil(stopLimit, func() bool { return len(procsWith(dir)) == 0 }) {
		t.Errorf("left running %s after apache2 -k stop: %v", stopLimit, procsWith(dir))
	}

	// Every request answered is logged exactly once.
	logged := map[string]int{}
	files, _ := filepath.Glob(filepath.Join(logs, "access.log*"))
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
			if len(fs) != 3 || !strings.HasSuffix(l, "\n") {
				t.Errorf("%s: torn line %q", filepath.Base(f), l)
				continue
			}
			if fs[0] == "*" {
				// "OPTIONS *": the dummy connection Apache makes to wake
				// its own children at a restart, logged like any request.
				continue
			}
			logged[fs[0]]++
		}
	}
	var missing, doubled []string
	slowMade, slowFound, fastMade, fastFound := 0, 0, 0, 0
	for uri := range answered {
		isSlow := strings.Contains(uri, "slow.sh")
		if isSlow {
			slowMade++
		} else {
			fastMade++
		}
		switch n := logged[uri]; {
		case n == 0:
			missing = append(missing, uri)
		case n > 1:
			doubled = append(doubled, uri)
		}
		if logged[uri] > 0 {
			if isSlow {
				slowFound++
			} else {
				fastFound++
			}
		}
	}
	for uri := range logged {
		if !answered[uri] {
			t.Errorf("logged but never answered: %s", uri)
		}
	}
	t.Logf("requests answered: %d slow (%d logged), %d fast (%d logged); failed: %d; log files: %d",
		slowMade, slowFound, fastMade, fastFound, len(failed), len(files))
	if len(failed) > 0 {
		t.Errorf("%d requests failed, first: %s", len(failed), failed[0])
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d requests answered are not in the log (%d of %d slow ones), e.g. %q",
			len(missing), len(answered), slowMade-slowFound, slowMade, missing[:min(len(missing), 5)])
	}
	if len(doubled) > 0 {
		t.Errorf("%d requests logged more than once, e.g. %q", len(doubled), doubled[:min(len(doubled), 5)])
	}
	if t.Failed() {
		t.Logf("error.log:\n%s", readFileQuiet(errorLog))
	}
}

// freePort finds a loopback TCP port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
