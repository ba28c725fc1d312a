//go:build linux

// Command soak runs many rotlog pipelines on one target for a while, with
// per-second rotation, retention, compression and a post-rotate hook that
// archives every finished file, while it SIGKILLs and restarts pipelines at
// random and sends SIGHUP and SIGALRM. Then it checks every file of the
// target and the archive: no line torn or doubled anywhere, and every line
// of every pipeline that was not killed present exactly once.
//
//	go build -o rotlog . && go run ./bench/soak -bin ./rotlog -duration 60s
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bin", "./rotlog", "the rotlog binary")
	n := flag.Int("pipelines", 16, "pipelines at once")
	duration := flag.Duration("duration", 60*time.Second, "how long to run")
	keep := flag.Bool("keep", false, "keep the work directory")
	flag.Parse()
	abs, err := filepath.Abs(*bin)
	check(err)
	work, err := os.MkdirTemp("", "rotlog-soak-")
	check(err)
	if !*keep {
		defer os.RemoveAll(work)
	}
	target, archive := filepath.Join(work, "target"), filepath.Join(work, "archive")
	check(os.MkdirAll(target, 0o755))
	check(os.MkdirAll(archive, 0o755))
	args := []string{"-p", filepath.Join(target, "app.log"), "-when", "S", "-n", "5", "-z",
		"--lock-timeout", "1s",
		// Retention may free a name that a later rotation takes again:
		// archive each finished file under a name of its own.
		"--post-rotate", `archive() { cp -p "$1" "` + archive + `/${1##*/}.$$"; }; archive`}

	s := &soak{bin: abs, args: args, sent: map[string]int{}, killed: map[string]bool{}}
	end := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for w := range *n {
		wg.Go(func() { s.worker(w, end) })
	}
	wg.Wait()
	fmt.Printf("soak: %d pipelines for %s: %d runs, %d killed, %d HUP, %d ALRM, %d lines sent\n",
		*n, *duration, s.runs, len(s.killed), s.hups, s.alrms, s.total())
	if bad := s.verify(target, archive); bad > 0 {
		fmt.Printf("FAIL: %d problems (work directory %s kept)\n", bad, work)
		*keep = true
		os.Exit(1)
	}
	fmt.Println("PASS")
}

type soak struct {
	bin  string
	args []string

	mu                sync.Mutex
	sent              map[string]int  // lines each run wrote to its pipe
	killed            map[string]bool // runs ended with SIGKILL
	runs, hups, alrms int
	errors            []string
}

func (s *soak) total() (t int) {
	for _, n := range s.sent {
		t += n
	}
	return t
}

// worker keeps one pipeline running until end, feeding it lines and now
// and then killing it (and starting another), or sending HUP or ALRM.
func (s *soak) worker(w int, end time.Time) {
	rng := rand.New(rand.NewPCG(uint64(w), 42))
	for run := 0; time.Now().Before(end); run++ {
		id := fmt.Sprintf("w%02d-r%02d", w, run)
		cmd := exec.Command(s.bin, s.args...)
		cmd.Env = append(os.Environ(), "TZ=UTC")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdin, err := cmd.StdinPipe()
		check(err)
		check(cmd.Start())
		s.mu.Lock()
		s.runs++
		s.mu.Unlock()
		bw := bufio.NewWriterSize(stdin, 64<<10)
		life := time.Now().Add(time.Duration(2+rng.IntN(8)) * time.Second)
		seq, killed := 0, false
		for time.Now().Before(end) && !killed {
			for range 1 + rng.IntN(30) {
				pad := 20 + rng.IntN(200)
				if rng.IntN(1000) == 0 {
					pad = 50_000
				}
				fmt.Fprintf(bw, "%s %d %d %s\n", id, seq, pad, strings.Repeat("x", pad))
				seq++
			}
			if bw.Flush() != nil {
				break
			}
			time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond)
			switch r := rng.IntN(20000); {
			case r < 3:
				cmd.Process.Signal(syscall.SIGHUP)
				s.mu.Lock()
				s.hups++
				s.mu.Unlock()
			case r < 5:
				cmd.Process.Signal(syscall.SIGALRM)
				s.mu.Lock()
				s.alrms++
				s.mu.Unlock()
			}
			if time.Now().After(life) && rng.IntN(2) == 0 {
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		stdin.Close()
		err = cmd.Wait()
		s.mu.Lock()
		s.sent[id] = seq
		if killed {
			s.killed[id] = true
		} else if err != nil {
			s.errors = append(s.errors, fmt.Sprintf("%s: %v: %s", id, err, stderr.String()))
		}
		s.mu.Unlock()
		if !killed && strings.Contains(stderr.String(), "error") {
			s.mu.Lock()
			s.errors = append(s.errors, id+": "+stderr.String())
			s.mu.Unlock()
		}
	}
}

// verify reads the archive and the target's files not archived (the
// active file; rotated ones whose hook has not run) and counts problems.
func (s *soak) verify(target, archive string) (bad int) {
	for _, e := range s.errors {
		fmt.Println("pipeline error:", e)
		bad++
	}
	files := map[string]string{} // name -> path
	for _, dir := range []string{archive, target} {
		ents, err := os.ReadDir(dir)
		check(err)
		for _, e := range ents {
			path := filepath.Join(dir, e.Name())
			if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".lock") {
				continue
			}
			if dir == target && hooked(path) {
				continue // its copy is in the archive
			}
			files[e.Name()] = path
		}
	}
	seen := map[string]map[int]int{}
	for name, path := range files {
		if strings.HasSuffix(name, ".tmp") {
			fmt.Println("leftover temporary file:", name)
			bad++
			continue
		}
		data := read(path)
		if len(data) > 0 && data[len(data)-1] != '\n' {
			fmt.Println("file does not end with a newline:", name)
			bad++
		}
		for _, l := range bytes.Split(data, []byte{'\n'}) {
			if len(l) == 0 {
				continue
			}
			f := strings.SplitN(string(l), " ", 4)
			seq, err1 := strconv.Atoi(f[min(1, len(f)-1)])
			pad, err2 := strconv.Atoi(f[min(2, len(f)-1)])
			if len(f) != 4 || err1 != nil || err2 != nil || f[3] != strings.Repeat("x", pad) {
				fmt.Printf("torn line in %s: %.60q\n", name, l)
				bad++
				continue
			}
			if seen[f[0]] == nil {
				seen[f[0]] = map[int]int{}
			}
			seen[f[0]][seq]++
		}
	}
	for id, n := range s.sent {
		lost := 0
		for seq := range n {
			c := seen[id][seq]
			if c > 1 {
				fmt.Printf("%s line %d found %d times\n", id, seq, c)
				bad++
			}
			if c == 0 && !s.killed[id] {
				lost++
			}
		}
		if lost > 0 {
			fmt.Printf("%s (not killed): %d of %d lines lost\n", id, lost, n)
			bad++
		}
	}
	return bad
}

// hooked reports whether the post-rotate hook ran for path.
func hooked(path string) bool {
	buf := make([]byte, 16)
	n, err := syscall.Getxattr(path, "user.rotlog.hook", buf)
	return err == nil && string(buf[:n]) == "done"
}

func read(path string) []byte {
	f, err := os.Open(path)
	check(err)
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		check(err)
		r = zr
	}
	b, err := io.ReadAll(r)
	check(err)
	return b
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
}
