//go:build linux

// Command harness runs the measurements of bench/run (see bench/README.md).
// It is the producer of every pipeline it measures: it writes the input
// into a pipe itself, so that every consumer reads the same bytes the same
// way, and it reads the consumer's CPU time and peak RSS from wait4's
// rusage, which counts that process (and children it waited for) only.
//
//	harness pipe   -corpus FILE -cmds cat,rotlog-active,...   one pipeline, ABAB rounds
//	harness pipe   -nonl 1G -cmds cat,rotlog-active           one line without newline
//	harness multi  -corpus FILE -n 8                          n pipelines, one target
//	harness lock   -n 200                                     lock hold per rotation
//	harness switch -n 64 -boundaries 5                        time to switch files
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: harness pipe|multi|lock|switch [flags]; harness CMD -h for the flags")
	os.Exit(2)
}

// common are the flags every subcommand shares.
type common struct {
	rotlog string // the rotlog binary
	work   string // scratch directory for the files written
	rounds int
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.rotlog, "rotlog", "bench/out/rotlog", "rotlog binary")
	fs.StringVar(&c.work, "work", "bench/out/work", "scratch directory (emptied)")
	fs.IntVar(&c.rounds, "rounds", 5, "rounds of alternating runs")
}

func (c *common) check() {
	var err error
	if c.rotlog, err = filepath.Abs(c.rotlog); err != nil {
		fatalf("%v", err)
	}
	if _, err := os.Stat(c.rotlog); err != nil {
		fatalf("rotlog binary: %v (build it: go build -o bench/out/rotlog .)", err)
	}
	if c.work, err = filepath.Abs(c.work); err != nil {
		fatalf("%v", err)
	}
	if err := os.MkdirAll(c.work, 0o755); err != nil {
		fatalf("%v", err)
	}
	if c.rounds < 1 {
		fatalf("-rounds must be at least 1")
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "harness: "+format+"\n", args...)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "  "+format+"\n", args...)
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "pipe":
		pipeMain(args)
	case "multi":
		multiMain(args)
	case "lock":
		lockMain(args)
	case "switch":
		switchMain(args)
	default:
		usage()
	}
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
