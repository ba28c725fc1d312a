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
//
// With ROTLOG_PRODUCER_LINGER=DURATION it is a server that takes that long
// to stop: after the signal it goes on writing for DURATION, then records
// and exits 0. A write that fails (EPIPE: its reader is gone) ends it at
// once with status 1, its record then reading "N epipe".
func producer() {
	name := fmt.Sprintf("%s-%d", os.Args[1], os.Getpid())
	dir := os.Args[2]
	linger, _ := time.ParseDuration(os.Getenv("ROTLOG_PRODUCER_LINGER"))
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGTERM, syscall.SIGINT)
	// A write to a closed pipe fails with EPIPE instead of killing the
	// producer, so that it can record how far it got.
	signal.Ignore(syscall.SIGPIPE)
	out := bufio.NewWriter(os.Stdout)
	errw := bufio.NewWriter(os.Stderr)
	seq := 0
	record := func(note string) {
		tmp := filepath.Join(dir, "."+name)
		os.WriteFile(tmp, []byte(strconv.Itoa(seq)+note), 0o644)
		os.Rename(tmp, filepath.Join(dir, name))
	}
	tick := time.NewTicker(2 * time.Millisecond)
	var stopAt <-chan time.Time
	for {
		select {
		case <-sigc:
			if linger > 0 && stopAt == nil {
				stopAt = time.After(linger)
				continue
			}
			if stopAt == nil {
				record("")
				os.Exit(0)
			}
		case <-stopAt:
			record("")
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
					record(" epipe")
					os.Exit(1)
				}
				seq++
			}
		}
	}
}
