//go:build linux

package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var markerRE = regexp.MustCompile(`^rotlog: dropped (\d+) lines \((\d+) bytes\) between (\S+) and (\S+)$`)

// --on-block drop on a full disk: the producer is never held up, the lines
// kept are whole and in order, and the markers count exactly the rest.
func TestDropOnFullDisk(t *testing.T) {
	t.Parallel()
	dir := mountTmpfs(t, 1<<20)
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 1<<20-64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	p := startRotlog(t, dir, "rotlog", nil, "-p", "app.log", "--on-block", "drop", "--buffer", "64K")
	// 100 000 lines of 100 bytes, 10 MB: far more than the disk, the
	// buffer and the pipe together hold.
	const n = 100_000
	sent := time.Now()
	var in bytes.Buffer
	for i := range n {
		in.WriteString(line(0, i, sent, 100-len(line(0, i, sent, 0))))
	}
	written := make(chan error, 1)
	go func() {
		_, err := p.stdin.Write(in.Bytes())
		written <- err
	}()
	var werr error
	waitFor(t, "the producer to write everything while the disk is full", func() bool {
		select {
		case werr = <-written:
			return true
		default:
			return false
		}
	})
	if werr != nil {
		t.Fatal(werr)
	}
	if !strings.Contains(p.stderr.String(), "dropping whole lines") {
		t.Errorf("no report of dropping: %s", p.stderr)
	}
	p.stdin.Close()
	os.Remove(filler)
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("%v; stderr: %s", err, p.stderr)
	}

	f, err := os.Open(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	kept, dropped, droppedBytes, markers, next := 0, 0, 0, 0, 0
	var keptBytes int
	for sc.Scan() {
		if m := markerRE.FindStringSubmatch(sc.Text()); m != nil {
			markers++
			l, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			dropped += l
			droppedBytes += b
			for _, ts := range m[3:] {
				if _, err := time.Parse(time.RFC3339, ts); err != nil {
					t.Errorf("marker %q: %v", sc.Text(), err)
				}
			}
			continue
		}
		pl, ok := parseLine(sc.Text())
		if !ok {
			t.Fatalf("a torn or foreign line: %q", sc.Text())
		}
		if pl.seq < next {
			t.Fatalf("line %d after line %d: out of order or doubled", pl.seq, next-1)
		}
		next = pl.seq + 1
		kept++
		keptBytes += len(sc.Text()) + 1
	}
	t.Logf("lines written %d, kept %d, dropped %d (markers: %d, %d bytes)", n, kept, dropped, markers, droppedBytes)
	if markers == 0 || dropped == 0 {
		t.Fatalf("no lines dropped: the test did not fill the buffer; stderr: %s", p.stderr)
	}
	if kept+dropped != n || keptBytes+droppedBytes != in.Len() {
		t.Errorf("kept %d + dropped %d lines = %d, want %d; bytes %d + %d, want %d",
			kept, dropped, kept+dropped, n, keptBytes, droppedBytes, in.Len())
	}
	if got := strings.Count(p.stderr.String(), "rotlog: dropped "); got != markers {
		t.Errorf("stderr has %d markers, the log %d", got, markers)
	}
}
