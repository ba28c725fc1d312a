package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// producer is a test server: rotlog-producer NAME RECORDDIR writes lines
// "NAME-PID SEQ pad" to stdout (and every third one to stderr) until
// SIGTERM or SIGINT, then records in RECORDDIR/NAME-PID how many lines it
// wrote, and exits 0. Every line it counted was written before it stopped.
func producer() {
	name := fmt.Sprintf("%s-%d", os.Args[1], os.Getpid())
	dir := os.Args[2]
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	out := bufio.NewWriter(os.Stdout)
	errw := bufio.NewWriter(os.Stderr)
	seq := 0
	record := func() {
		tmp := filepath.Join(dir, "."+name)
		os.WriteFile(tmp, []byte(strconv.Itoa(seq)), 0o644)
		os.Rename(tmp, filepath.Join(dir, name))
	}
	tick := time.NewTicker(2 * time.Millisecond)
	for {
		select {
		case <-sigc:
			record()
			os.Exit(0)
		case <-tick.C:
			for range 5 {
				w := out
				if seq%3 == 2 {
					w = errw
				}
				fmt.Fprintf(w, "%s %d %s\n", name, seq, "padding-padding-padding")
				// Flush each line, so a counted line was really written.
				if w.Flush() != nil {
					record()
					os.Exit(1)
				}
				seq++
			}
		}
	}
}
