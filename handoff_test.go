package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// manifestEntry is one line of TARGET.manifest.
type manifestEntry struct {
	Name            string `json:"name"`
	Start           string `json:"start"`
	End             string `json:"end"`
	Bytes           int64  `json:"bytes"`
	Lines           int64  `json:"lines"`
	SHA256          string `json:"sha256"`
	CompressedBytes int64  `json:"compressed_bytes"`
	Codec           string `json:"codec"`
}

// Eight pipelines with -when S, --rotate-to an archive tree, -z=zstd:3,
// --compress-delay 2s, --manifest and -n 20: every rotated file lands in
// the archive, is compressed once and not before its delay, and has exactly
// one manifest line, whose bytes, lines and sha256 the test recomputes;
// the lines of the manifest, the files not finished yet and the active
// file add up to every line sent, and no line is there twice.
func TestHandOffManyPipelines(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const rotateTo = "archive/%Y/%m/app-%Y-%m-%d_%H-%M-%S.log"
	const delay = 2 * time.Second
	args := []string{"-p", "app.log", "-when", "S", "--rotate-to", rotateTo, "-z=zstd:3",
		"--compress-delay", delay.String(), "--manifest", "-n", "20", "-v"}
	const n = 8
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startRotlog(t, dir, "rotlog", nil, args...)
	}
	// Watch the archive: when each compressed file first appears.
	nameRe := regexp.MustCompile(`app-(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})\.log(\.\d+)?\.zst$`)
	firstSeen := map[string]time.Time{}
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(20 * time.Millisecond):
			}
			now := time.Now()
			filepath.WalkDir(filepath.Join(dir, "archive"), func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && nameRe.MatchString(p) {
					if _, ok := firstSeen[p]; !ok {
						firstSeen[p] = now
					}
				}
				return nil
			})
		}
	}()
	sent := 0
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			k, err := feed(p.stdin, i, 20*time.Second, rand.New(rand.NewPCG(uint64(i), 15)))
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			sent += k
			mu.Unlock()
			p.wait(t)
		})
	}
	wg.Wait()
	close(stopWatch)
	<-watched

	rotations, compressions := map[string]int{}, map[string]int{}
	for _, p := range procs {
		reportedFiles(p.stderr.String(), func(s string) string { return s }, rotations, compressions)
		if strings.Contains(p.stderr.String(), "error") {
			t.Errorf("stderr: %s", p.stderr)
		}
	}
	if len(rotations) < 10 {
		t.Fatalf("only %d rotations", len(rotations))
	}
	b, err := os.ReadFile(filepath.Join(dir, "app.log.manifest"))
	if err != nil {
		t.Fatal(err)
	}
	manifest := map[string]manifestEntry{}
	var listed int64
	for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		var e manifestEntry
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("manifest line %q: %v", l, err)
		}
		if _, dup := manifest[e.Name]; dup {
			t.Errorf("%s twice in the manifest", e.Name)
		}
		manifest[e.Name] = e
		listed += e.Lines
		if e.Codec != "zstd" {
			t.Errorf("%s: codec %q", e.Name, e.Codec)
		}
	}
	seen := map[[2]int]bool{}
	// count reads a file's lines, checking each and that none is seen twice.
	count := func(path string) (data []byte, lines int64) {
		data = readMaybeCompressed(t, path)
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if l == "" {
				continue
			}
			pl, ok := parseLine(strings.TrimSuffix(l, "\n"))
			if !ok {
				t.Errorf("torn line in %s: %.60q", path, l)
				continue
			}
			k := [2]int{pl.id, pl.seq}
			if seen[k] {
				t.Errorf("line %v twice", k)
			}
			seen[k] = true
			lines++
		}
		return data, lines
	}
	unlisted := int64(0)
	for name, c := range rotations {
		if c != 1 {
			t.Errorf("%s rotated %d times", name, c)
		}
		if !strings.HasPrefix(name, "archive/") {
			t.Errorf("rotated to %s, not into the archive", name)
		}
		final := name + ".zst"
		e, listedOK := manifest[final]
		path := filepath.Join(dir, final)
		if !listedOK {
			// Not finished yet (its delay had not passed at exit): it is
			// there, uncompressed, and its lines count.
			if exists(filepath.Join(dir, name)) {
				_, k := count(filepath.Join(dir, name))
				unlisted += k
			} else {
				t.Errorf("%s: neither in the manifest nor there", name)
			}
			continue
		}
		if compressions[name] != 1 {
			t.Errorf("%s compressed %d times", name, compressions[name])
		}
		m := nameRe.FindStringSubmatch(final)
		start, err := time.ParseInLocation("2006-01-02_15-04-05", m[1], time.Local)
		if err != nil {
			t.Fatal(err)
		}
		if seenAt, ok := firstSeen[path]; ok && seenAt.Before(start.Add(time.Second+delay)) {
			t.Errorf("%s compressed by %s, before its period's end and the delay (%s)", final, seenAt.Format(time.RFC3339Nano), start.Add(time.Second+delay).Format(time.RFC3339Nano))
		}
		if e.Start != start.Format(time.RFC3339) || e.End != start.Add(time.Second).Format(time.RFC3339) {
			t.Errorf("%s: period %s to %s in the manifest", final, e.Start, e.End)
		}
		if !exists(path) {
			continue // removed by retention, after its line was written
		}
		data, lines := count(path)
		raw, _ := os.ReadFile(path)
		sum := sha256.Sum256(raw)
		if e.Bytes != int64(len(data)) || e.Lines != lines || e.SHA256 != hex.EncodeToString(sum[:]) || e.CompressedBytes != int64(len(raw)) {
			t.Errorf("%s: manifest says %d bytes, %d lines, sha256 %s, %d compressed; the file has %d, %d, %x, %d",
				final, e.Bytes, e.Lines, e.SHA256, e.CompressedBytes, len(data), lines, sum, len(raw))
		}
	}
	if len(manifest) > len(rotations) {
		t.Errorf("%d manifest lines for %d rotated files", len(manifest), len(rotations))
	}
	var active int64
	if exists(filepath.Join(dir, "app.log")) {
		_, active = count(filepath.Join(dir, "app.log"))
	}
	if got := listed + unlisted + active; got != int64(sent) {
		t.Errorf("%d lines sent; the manifest lists %d, unfinished files hold %d, app.log %d: %d in all", sent, listed, unlisted, active, got)
	}
	t.Logf("%d lines, %d rotated files, %d manifest lines, %d lines in unfinished files", sent, len(rotations), len(manifest), unlisted)
}

// hookScript fails its first two runs for a file, then succeeds; it notes
// each run, and whether the file was there, in COUNTS/NAME.
const hookScript = `c="$COUNTS/$(basename "$1")"; if test -e "$1"; then echo there >>"$c"; else echo gone >>"$c"; fi; test $(wc -l <"$c") -ge 3 #`

// A post-rotate command that fails twice is tried again, with backoff,
// while rotlog runs, until it succeeds; retention (-n 1) keeps the older
// file until then, and removes it after.
func TestPostRotateRetried(t *testing.T) {
	t.Parallel()
	dir, counts := t.TempDir(), t.TempDir()
	old := filepath.Join(dir, "app.log.2026-11-20")
	os.WriteFile(old, []byte("old\n"), 0o644)
	setHookPending(t, old)
	newer := filepath.Join(dir, "app.log.2026-11-24")
	os.WriteFile(newer, []byte("newer\n"), 0o644)
	setHookPending(t, newer)
	p := startRotlog(t, dir, "rotlog", []string{"COUNTS=" + counts}, "-p", "app.log", "-when", "D", "-n", "1",
		"--start-time", "2026-11-25 12:00:00", "--post-rotate", hookScript)
	waitFor(t, "the older file's command to succeed", func() bool {
		return strings.Count(readFileQuiet(filepath.Join(counts, "app.log.2026-11-20")), "\n") >= 3
	})
	waitFor(t, "the older file's removal", func() bool { return !exists(old) })
	waitFor(t, "the newer file's command to succeed", func() bool { return hookMark(newer) == "done" })
	p.wait(t)
	for _, name := range []string{"app.log.2026-11-20", "app.log.2026-11-24"} {
		if got := readFileQuiet(filepath.Join(counts, name)); got != "there\nthere\nthere\n" {
			t.Errorf("%s: runs %q, want three with the file there", name, got)
		}
	}
	s := p.stderr.String()
	for _, want := range []string{
		"post-rotate command for app.log.2026-11-20 failed (try 1): exit status 1; trying again in 1s",
		"post-rotate command for app.log.2026-11-20 failed (try 2): exit status 1; trying again in 2s",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("stderr does not say %q: %s", want, s)
		}
	}
	if strings.Contains(s, "not succeeded yet") {
		t.Errorf("stderr: %s", s)
	}
}

func hookMark(path string) string {
	var buf [256]byte
	n, err := unix.Getxattr(path, "user.rotlog.hook", buf[:])
	if err != nil {
		return ""
	}
	return string(buf[:n])
}

// A pipeline killed (SIGKILL) while its post-rotate command runs leaves the
// file marked running; the next start sees that process gone, counts it as
// a failure and runs the command again, to success.
func TestPostRotateKilledRunsAgain(t *testing.T) {
	t.Parallel()
	dir, work := t.TempDir(), t.TempDir()
	old := filepath.Join(dir, "app.log.2026-11-24")
	os.WriteFile(old, []byte("old\n"), 0o644)
	setHookPending(t, old)
	hook := `echo run >>"$WORK/runs"; test -e "$WORK/gate" && exit 0; echo $$ >"$WORK/hook.pid"; exec sleep 600 #`
	env := []string{"WORK=" + work}
	args := []string{"-p", "app.log", "-when", "D", "-n", "1", "--start-time", "2026-11-25 12:00:00", "--post-rotate", hook}
	first := startRotlog(t, dir, "rotlog", env, args...)
	pidFile := filepath.Join(work, "hook.pid")
	waitFor(t, "the command to start", func() bool { return readFileQuiet(pidFile) != "" })
	if m := hookMark(old); !strings.HasPrefix(m, "running:0:"+strconv.Itoa(first.cmd.Process.Pid)+":") {
		t.Errorf("mark while running: %q", m)
	}
	first.cmd.Process.Kill()
	first.cmd.Wait()
	if pid, err := strconv.Atoi(strings.TrimSpace(readFileQuiet(pidFile))); err == nil {
		syscall.Kill(pid, syscall.SIGKILL) // the command outlives rotlog
	}
	os.WriteFile(filepath.Join(work, "gate"), nil, 0o644)
	second := startRotlog(t, dir, "rotlog", env, args...)
	waitFor(t, "the command to succeed", func() bool { return hookMark(old) == "done" })
	second.wait(t)
	if got := readFileQuiet(filepath.Join(work, "runs")); got != "run\nrun\n" {
		t.Errorf("runs: %q, want two", got)
	}
	want := "post-rotate command for app.log.2026-11-24 did not finish (try 1): process " + strconv.Itoa(first.cmd.Process.Pid) + " ended while it ran; running it again"
	if s := second.stderr.String(); !strings.Contains(s, want) {
		t.Errorf("stderr does not say %q: %s", want, s)
	}
	if !bytes.Equal([]byte(readFileQuiet(old)), []byte("old\n")) {
		t.Errorf("%s changed", old)
	}
}
