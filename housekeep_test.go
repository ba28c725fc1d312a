package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// readMaybeCompressed reads a file, decompressing .gz and .zst.
func readMaybeCompressed(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	switch filepath.Ext(path) {
	case ".gz":
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = zr
	case ".zst":
		zr, err := zstd.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer zr.Close()
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// Eight pipelines with -when S -n 3 -z and a post-rotate hook: each rotated
// file is compressed once and hooked once, at most 3 are left, and every
// line that was not removed by retention is there exactly once.
func TestHousekeepingManyPipelines(t *testing.T) {
	t.Parallel()
	for _, codec := range []string{"gzip", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			hooks := filepath.Join(t.TempDir(), "hooks")
			args := []string{"-p", "app.log", "-when", "S", "-n", "3", "-z=" + codec, "-v",
				"--post-rotate", "echo >>" + hooks}
			const n = 8
			procs := make([]*proc, n)
			for i := range procs {
				procs[i] = startRotlog(t, dir, "rotlog", nil, args...)
			}
			var wg sync.WaitGroup
			for i, p := range procs {
				wg.Go(func() {
					if _, err := feed(p.stdin, i, 6*time.Second, rand.New(rand.NewPCG(uint64(i), 3))); err != nil {
						t.Error(err)
					}
					p.wait(t)
				})
			}
			wg.Wait()
			rotations, compressions := map[string]int{}, map[string]int{}
			for _, p := range procs {
				reportedFiles(p.stderr.String(), filepath.Base, rotations, compressions)
				if strings.Contains(p.stderr.String(), "error") {
					t.Errorf("stderr: %s", p.stderr)
				}
			}
			// 6 s of -when S cross 6 boundaries; a machine so loaded
			// that no line is written for a whole second skips one.
			if len(rotations) < 3 {
				t.Fatalf("only %d rotations in 6 s of -when S", len(rotations))
			}
			hooked := map[string]int{}
			b, _ := os.ReadFile(hooks)
			for _, l := range strings.Fields(string(b)) {
				hooked[filepath.Base(l)]++
			}
			ext := map[string]string{"gzip": ".gz", "zstd": ".zst"}[codec]
			for name, c := range rotations {
				if c != 1 {
					t.Errorf("%s rotated %d times", name, c)
				}
				if compressions[name] != 1 {
					t.Errorf("%s compressed %d times", name, compressions[name])
				}
				if hooked[name+ext] != 1 {
					t.Errorf("%s hooked %d times", name+ext, hooked[name+ext])
				}
			}
			if len(hooked) != len(rotations) {
				t.Errorf("%d hooks for %d rotated files: %v", len(hooked), len(rotations), hooked)
			}
			ents, _ := os.ReadDir(dir)
			var left []string
			for _, e := range ents {
				if e.Name() != "app.log" {
					left = append(left, e.Name())
				}
				if e.Name() != "app.log" && !strings.HasSuffix(e.Name(), ext) {
					t.Errorf("%s left uncompressed (or not ours)", e.Name())
				}
			}
			if len(left) > 3 {
				t.Errorf("%d rotated files left, want at most 3: %v", len(left), left)
			}
			// The lines left are whole, once each, in order per pipeline.
			seen := map[[2]int]bool{}
			names := left
			if exists(filepath.Join(dir, "app.log")) {
				// Missing when the last boundary came after the last line:
				// a pipeline still running rotated it, and no line followed.
				names = append(names, "app.log")
			}
			for _, name := range names {
				for _, l := range strings.SplitAfter(string(readMaybeCompressed(t, filepath.Join(dir, name))), "\n") {
					if l == "" {
						continue
					}
					pl, ok := parseLine(strings.TrimSuffix(l, "\n"))
					if !ok {
						t.Errorf("torn line in %s: %.60q", name, l)
						continue
					}
					k := [2]int{pl.id, pl.seq}
					if seen[k] {
						t.Errorf("line %v twice", k)
					}
					seen[k] = true
				}
			}
		})
	}
}

// A compression killed at any point leaves the original intact and no
// file under a final name; a later pass cleans up and compresses.
func TestKillDuringCompression(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := filepath.Join(dir, "app.log.2026-11-24")
	f, _ := os.Create(old)
	rng := rand.New(rand.NewPCG(5, 5))
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for i := range buf { // lines that compress poorly
		buf[i] = 'a' + byte(rng.IntN(26))
		if i%100 == 99 {
			buf[i] = '\n'
		}
	}
	for i := range 32 { // 32 MB, long enough to kill the compression midway
		buf[0] = 'a' + byte(i)
		f.Write(buf)
		h.Write(buf)
	}
	f.Close()
	sum := h.Sum(nil)
	tmp := old + ".gz.tmp"
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "-z", "--start-time", "2026-11-25 12:00:00")
	waitFor(t, "the compression to write", func() bool {
		fi, err := os.Stat(tmp)
		return err == nil && fi.Size() > 0
	})
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	if exists(old + ".gz") {
		t.Fatal("a file under the final name after the kill")
	}
	if !bytes.Equal(sha256Of(t, old), sum) {
		t.Fatal("the original changed")
	}
	if !exists(tmp) {
		t.Fatal("the kill did not interrupt the compression; the test proves nothing")
	}
	p = startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "-z", "--start-time", "2026-11-25 12:00:00")
	p.wait(t)
	if exists(tmp) || exists(old) {
		t.Error("leftovers after a later pass")
	}
	got := sha256.Sum256(readMaybeCompressed(t, old+".gz"))
	if !bytes.Equal(got[:], sum) {
		t.Error("the compressed file differs from the original")
	}
}

func sha256Of(t *testing.T, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	return h.Sum(nil)
}

// Retention removes only whole rotated files of this target: near-misses,
// other targets, a live compression's temporary file and a directory named
// like a rotated file all survive.
func TestRetentionNearMisses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keep := []string{"app.log.bak", "app.log.2026-13-45", "other.log.2026-11-24", "app.log.2026-11-24.gz.tmp",
		"app.log.2026-11-24.txt", "app.log.2026-11-2", "xapp.log.2026-11-23", "app.log.lockx"}
	for _, name := range keep {
		os.WriteFile(filepath.Join(dir, name), []byte("keep\n"), 0o644)
	}
	os.Mkdir(filepath.Join(dir, "app.log.2026-11-20"), 0o755)
	// A live compression holds its temporary file's flock.
	live, _ := os.Open(filepath.Join(dir, "app.log.2026-11-24.gz.tmp"))
	defer live.Close()
	unix.Flock(int(live.Fd()), unix.LOCK_EX)
	for _, name := range []string{"app.log.2026-11-01", "app.log.2026-11-02.gz", "app.log.2026-11-03.1", "app.log.2026-11-22", "app.log.2026-11-23"} {
		os.WriteFile(filepath.Join(dir, name), []byte("old\n"), 0o644)
	}
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "-n", "2", "--start-time", "2026-11-25 12:00:00")
	io.WriteString(p.stdin, "new\n")
	p.wait(t)
	for _, name := range append(keep, "app.log.2026-11-20", "app.log.2026-11-22", "app.log.2026-11-23", "app.log") {
		if !exists(filepath.Join(dir, name)) {
			t.Errorf("%s was removed", name)
		}
	}
	for _, name := range []string{"app.log.2026-11-01", "app.log.2026-11-02.gz", "app.log.2026-11-03.1"} {
		if exists(filepath.Join(dir, name)) {
			t.Errorf("%s was kept beyond -n 2", name)
		}
	}

	// --max-age removes by the period in the name.
	p = startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "--max-age", "2d", "--start-time", "2026-11-25 12:00:00")
	p.wait(t)
	if exists(filepath.Join(dir, "app.log.2026-11-22")) || !exists(filepath.Join(dir, "app.log.2026-11-23")) {
		t.Error("--max-age 2d on 2026-11-25 should remove the file of 11-22 (ended 11-23) and keep 11-23's")
	}
}

// The symlink always points at an existing file being written, across
// rotations by several pipelines; a reader never finds it missing.
func TestSymlinkNeverMissing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(dir, "current.log")
	const n = 4
	procs := make([]*proc, n)
	for i := range procs {
		procs[i] = startRotlog(t, dir, "rotlog", nil, "-p", "logs/%H%M%S.log", "-l", "current.log")
	}
	io.WriteString(procs[0].stdin, "first\n")
	waitFor(t, "the link", func() bool { return exists(link) })
	stop := make(chan struct{})
	var misses, checks int
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			checks++
			if _, err := os.Stat(link); err != nil {
				misses++
			}
		}
	})
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() {
			feed(p.stdin, i, 3*time.Second, rand.New(rand.NewPCG(uint64(i), 1)))
			p.wait(t)
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if misses > 0 {
		t.Errorf("the link was missing or dangling %d times in %d checks", misses, checks)
	}
	target, _ := os.Readlink(link)
	if !strings.HasPrefix(target, "logs/") {
		t.Errorf("link points at %q", target)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "logs", "*"))
	if len(files) < 2 {
		t.Errorf("%d files: no rotation happened", len(files))
	}
	if leftovers, _ := filepath.Glob(link + ".tmp*"); len(leftovers) > 0 {
		t.Errorf("temporary links left: %v", leftovers)
	}
}

// A post-rotate hook that hangs is killed after its timeout and reported;
// logging goes on meanwhile.
func TestPostRotateHang(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.log.2026-11-24"), []byte("old\n"), 0o644)
	setHookPending(t, filepath.Join(dir, "app.log.2026-11-24"))
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "--start-time", "2026-11-25 12:00:00",
		"--post-rotate", "sleep 600 #", "--post-rotate-timeout", "1s")
	waitFor(t, "the hook to start", func() bool {
		out, _ := exec.Command("pgrep", "-f", "sleep 600").Output()
		return len(out) > 0
	})
	io.WriteString(p.stdin, "logged while the hook hangs\n")
	waitFor(t, "the line", func() bool { return readFileQuiet(filepath.Join(dir, "app.log")) != "" })
	waitFor(t, "the report", func() bool { return strings.Contains(p.stderr.String(), "killed after 1s") })
	p.wait(t)
}

func setHookPending(t *testing.T, path string) {
	if err := unix.Setxattr(path, "user.rotlog.hook", []byte("pending"), 0); err != nil {
		t.Fatal(err)
	}
}

// An active file with no record of its period (its creator was killed
// between the create and the record, or another program made it) gets its
// records from the pipeline that opens it under the lock: its post-rotate
// command runs once it is rotated. (It never ran: no mark said it was owed.)
func TestUnrecordedActiveFileHooked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app := filepath.Join(dir, "app.log")
	if err := os.WriteFile(app, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hooks := filepath.Join(t.TempDir(), "hooks")
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "-when", "D", "-v", "--post-rotate", "echo >>"+hooks)
	io.WriteString(p.stdin, "new\n")
	waitFor(t, "the line appended", func() bool { return readFileQuiet(app) == "old\nnew\n" })
	p.cmd.Process.Signal(syscall.SIGALRM)
	waitFor(t, "the rotation", func() bool { return !exists(app) })
	p.wait(t)
	ents, _ := os.ReadDir(dir)
	var rotated []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "app.log.") {
			rotated = append(rotated, e.Name())
		}
	}
	got := strings.Fields(readFileQuiet(hooks))
	if len(rotated) != 1 || len(got) != 1 || filepath.Base(got[0]) != rotated[0] {
		t.Errorf("rotated %v, post-rotate command run for %v; want it run once for the rotated file; stderr: %s", rotated, got, p.stderr)
	}
}
