package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rotlog/rotlog/pattern"
	"github.com/rotlog/rotlog/rotator"
)

// rsyslogConf is the configuration TestRsyslogShipper runs rsyslogd with:
// no system inputs (no imuxsock, no imklog), its state files in a directory
// of the test, and imfile in inotify mode following the active file only
// (freshStartTail and reopenOnTruncate off, their defaults: nothing is
// skipped at start, and rotlog never truncates), forwarding the bare
// message over TCP, one line each, to the test's listener. The README's
// rsyslog recipe is this configuration.
const rsyslogConf = `global(workDirectory=%q maxMessageSize="64k")
module(load="imfile" mode="inotify")
template(name="msgonly" type="string" string="%%msg%%\n")
ruleset(name="ship") {
  action(type="omfwd" target="127.0.0.1" port="%d" protocol="tcp"
         template="msgonly" action.resumeRetryCount="-1")
}
input(type="imfile" File=%q Tag="app" ruleset="ship"
      freshStartTail="off" reopenOnTruncate="off")
`

// TestRsyslogShipper runs a real shipper, rsyslogd (Debian's package), in
// the foreground from a configuration the test writes: imfile in inotify
// mode follows the active file of two rotlog pipelines rotating every
// second with -z and --compress-delay 3s (so a rotated file is still there,
// under its rotated name, while imfile reads it to its end), and omfwd
// forwards every line over TCP to a listener on loopback. Every line the
// pipelines were sent must arrive exactly once: none lost, none doubled,
// none torn.
//
// .ci/run installs rsyslog and sets ROTLOG_REQUIRE_RSYSLOG=1, so in CI this
// test cannot be skipped.
func TestRsyslogShipper(t *testing.T) {
	rsyslogd, err := exec.LookPath("rsyslogd")
	if err != nil {
		rsyslogd, err = exec.LookPath("/usr/sbin/rsyslogd")
	}
	if err != nil {
		skipUnlessRequired(t, "ROTLOG_REQUIRE_RSYSLOG", "rsyslogd is not installed (apt-get install rsyslog): %v", err)
	}
	t.Parallel()
	dir := t.TempDir()
	work := t.TempDir()
	active := filepath.Join(dir, "app.log")

	// The listener: every line of every connection (omfwd may reconnect).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		received = map[[2]int]int{} // (pipeline, seq) -> times received
		probes   int
		bad      []string
		total    int
		conns    sync.WaitGroup
	)
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
				for sc.Scan() {
					s := sc.Text()
					mu.Lock()
					total++
					if s == "probe" {
						probes++
					} else if pl, ok := parseLine(s); ok {
						received[[2]int{pl.id, pl.seq}]++
					} else {
						bad = append(bad, s)
					}
					mu.Unlock()
				}
			})
		}
	}()

	conf := filepath.Join(work, "rsyslog.conf")
	text := fmt.Sprintf(rsyslogConf, work, ln.Addr().(*net.TCPAddr).Port, active)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	shipper := exec.Command(rsyslogd, "-n", "-f", conf, "-i", filepath.Join(work, "rsyslogd.pid"))
	shipperOut := new(syncBuffer)
	shipper.Stdout, shipper.Stderr = shipperOut, shipperOut
	if err := shipper.Start(); err != nil {
		t.Fatal(err)
	}
	shipperDone := make(chan struct{})
	go func() { shipper.Wait(); close(shipperDone) }()
	stopShipper := func() {
		shipper.Process.Signal(syscall.SIGTERM)
		select {
		case <-shipperDone:
		case <-time.After(time.Minute):
			shipper.Process.Kill()
			<-shipperDone
		}
	}
	defer func() {
		select {
		case <-shipperDone:
		default:
			stopShipper()
		}
		ln.Close()
		<-accepted
		conns.Wait()
	}()

	// Wait until rsyslog follows the file: a probe line written before
	// any pipeline starts must reach the listener.
	if err := os.WriteFile(active, []byte("probe\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !pollUntil(time.Minute, func() bool { mu.Lock(); defer mu.Unlock(); return probes > 0 }) {
		t.Fatalf("rsyslogd forwarded no probe line; its output:\n%s", shipperOut)
	}

	const n = 2
	const d = 8 * time.Second
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startRotlog(t, dir, "rotlog", nil, "-p", active, "-when", "S", "--compress-delay", "3s", "-z")
	}
	sent := make([]int, n)
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 16))
			bw := bufio.NewWriter(p.stdin)
			seq := 0
			for end := time.Now().Add(d); time.Now().Before(end); {
				for range 1 + rng.IntN(20) {
					bw.WriteString(line(i, seq, time.Now(), 20+rng.IntN(200)))
					seq++
				}
				if err := bw.Flush(); err != nil {
					t.Errorf("pipeline %d: %v", i, err)
					break
				}
				time.Sleep(time.Duration(1+rng.IntN(3)) * time.Millisecond)
			}
			sent[i] = seq
			p.wait(t)
		})
	}
	wg.Wait()
	produced := 0
	for _, k := range sent {
		produced += k
	}
	// The pipelines rotated (and compressed) while rsyslog followed them.
	rotated, _ := filepath.Glob(active + ".*[0-9]")
	compressed, _ := filepath.Glob(active + ".*.gz")
	if len(rotated)+len(compressed) < 3 || len(compressed) == 0 {
		t.Errorf("%d rotated files, %d of them compressed: the pipelines hardly rotated", len(rotated)+len(compressed), len(compressed))
	}

	// Wait (generously: the machine is shared) until every line is there.
	arrived := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(received)
	}
	if !pollUntil(3*time.Minute, func() bool { return arrived() >= produced }) {
		t.Errorf("gave up waiting: %d of %d lines arrived", arrived(), produced)
	}
	// Stop rsyslogd, so whatever else it would send (a line twice) has
	// been sent, and the listener has read it all.
	stopShipper()
	ln.Close()
	<-accepted
	conns.Wait()

	mu.Lock()
	defer mu.Unlock()
	t.Logf("produced %d lines (%v), received %d lines (%d distinct, %d probe); %d rotated files at the end, %d compressed", produced, sent, total, len(received), probes, len(rotated)+len(compressed), len(compressed))
	lost, doubled := 0, 0
	for i, k := range sent {
		for seq := range k {
			switch c := received[[2]int{i, seq}]; {
			case c == 0:
				if lost++; lost <= 10 {
					t.Errorf("p%d %d never arrived", i, seq)
				}
			case c > 1:
				if doubled++; doubled <= 10 {
					t.Errorf("p%d %d arrived %d times", i, seq, c)
				}
			}
		}
	}
	for key := range received {
		if key[0] < 0 || key[0] >= n || key[1] >= sent[key[0]] {
			t.Errorf("p%d %d arrived but was never sent", key[0], key[1])
		}
	}
	for _, s := range bad {
		t.Errorf("torn or foreign line: %.100q", s)
	}
	if probes != 1 {
		t.Errorf("the probe line arrived %d times", probes)
	}
	if lost+doubled > 0 {
		t.Errorf("%d lines lost, %d doubled; rsyslogd's output:\n%s", lost, doubled, shipperOut)
	}
}

// TestShipperGlobs checks the globs of the README's Vector and Fluent Bit
// recipes (the shippers themselves are not packaged where the tests run):
// the exact include names the active file and nothing rotlog makes beside
// it, and the wider glob with the excludes takes the active file and the
// rotated, uncompressed ones (a shipper that follows files by inode, as
// both do, knows a renamed file), never a compressed file, the manifest or
// the lock. Names are matched by their base, as fnmatch without
// FNM_PATHNAME matches these suffix patterns against a whole path.
func TestShipperGlobs(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	vector := regexp.MustCompile(`exclude = \[([^\]]*)\]`).FindStringSubmatch(readme)
	fluent := regexp.MustCompile("Exclude_Path\\s+([^`]+)`").FindStringSubmatch(readme)
	if vector == nil || fluent == nil {
		t.Fatal("the README's Vector or Fluent Bit recipe has no exclude list")
	}
	var vectorEx []string
	for _, q := range strings.Split(vector[1], ",") {
		vectorEx = append(vectorEx, strings.Trim(strings.TrimSpace(q), `"`))
	}
	fluentEx := strings.Split(strings.TrimSpace(fluent[1]), ",")
	if !strings.Contains(readme, `include = ["/var/log/app/app.log"]`) || !strings.Contains(readme, "`Path\n  /var/log/app/app.log`") {
		t.Fatal("the README's recipes no longer include the active file by its exact name")
	}

	pat, err := pattern.Compile("/var/log/app/app.log", pattern.Options{When: "H", Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	rotated := pat.RotatedName(at)
	want := map[string]bool{ // taken by the wider glob app.log* with the excludes
		pat.Path(at):              true,
		rotated:                   true,
		rotated + ".1":            true,
		rotated + ".gz":           false,
		rotated + ".1.zst":        false,
		rotated + ".gz.tmp":       false,
		rotator.ManifestPath(pat): false,
		pat.Path(at) + ".lock":    false,
		rotated + ".zst" + ".tmp": false,
	}
	for name, take := range want {
		base := filepath.Base(name)
		if ok, _ := filepath.Match("app.log*", base); !ok {
			t.Errorf("%s is not under the wider glob app.log*", name)
			continue
		}
		for shipper, ex := range map[string][]string{"Vector": vectorEx, "Fluent Bit": fluentEx} {
			excluded := false
			for _, g := range ex {
				if ok, _ := filepath.Match(g, base); ok {
					excluded = true
				}
			}
			if excluded == take {
				t.Errorf("%s: %s taken = %v, want %v (excludes %q)", shipper, name, !excluded, take, ex)
			}
		}
	}
}
