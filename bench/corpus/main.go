// Command corpus writes the benchmark corpus of bench/run: access-log-like
// lines of 60 to 300 bytes, and now and then a line of 10 to 50 KB (a stack
// trace, a request body), every line ending in a newline. The output is a
// function of -size and -seed only.
//
//	go run ./bench/corpus -size 300M -seed 1 -o bench/out/corpus-300M-1.log
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"

	"github.com/rotlog/rotlog/bench/internal/size"
)

func main() {
	sizeFlag := flag.String("size", "300M", "corpus size: bytes, or with K, M or G (binary)")
	seed := flag.Uint64("seed", 1, "random seed")
	out := flag.String("o", "-", "output file (- for standard output)")
	longEvery := flag.Int("long-every", 2000, "one line in this many, on average, is 10-50 KB long")
	flag.Parse()
	n, err := size.Parse(*sizeFlag)
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "corpus: bad -size %q\n", *sizeFlag)
		os.Exit(2)
	}
	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "-" {
		// Written under a temporary name, so that a cut-short run never
		// leaves a corpus that looks complete.
		f, err = os.Create(*out + ".tmp")
		if err != nil {
			fmt.Fprintln(os.Stderr, "corpus:", err)
			os.Exit(1)
		}
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	err = Generate(bw, n, *seed, *longEvery)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && f != nil {
		if err = f.Close(); err == nil {
			err = os.Rename(*out+".tmp", *out)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "corpus:", err)
		os.Exit(1)
	}
}

var (
	methods = []string{"GET", "GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD"}
	paths   = []string{"/", "/index.html", "/api/v1/users", "/api/v1/orders", "/static/app.js",
		"/static/style.css", "/images/logo.png", "/search", "/login", "/cart/checkout",
		"/api/v2/items", "/healthz", "/metrics", "/feed.xml", "/docs/getting-started"}
	statuses = []int{200, 200, 200, 200, 200, 200, 301, 302, 304, 404, 500, 503}
	agents   = []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"curl/8.5.0", "Go-http-client/1.1", "python-requests/2.32.3",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	}
	months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Generate writes exactly n bytes of corpus to w: whole lines, the last one
// cut short to fit and ended with a newline.
func Generate(w io.Writer, n int64, seed uint64, longEvery int) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	line := make([]byte, 0, 64<<10)
	sec := int64(1_790_000_000) // 2026-09-21, advancing
	var written int64
	for written < n {
		line = line[:0]
		if longEvery > 0 && rng.IntN(longEvery) == 0 {
			line = longLine(rng, line, 10_000+rng.IntN(40_001))
		} else {
			sec += int64(rng.IntN(2))
			line = accessLine(rng, line, sec)
		}
		if rest := n - written; int64(len(line)) > rest {
			line = line[:rest]
			line[len(line)-1] = '\n'
		}
		if _, err := w.Write(line); err != nil {
			return err
		}
		written += int64(len(line))
	}
	return nil
}

// accessLine appends a combined-log-format line of 60 to 300 bytes.
func accessLine(rng *rand.Rand, b []byte, sec int64) []byte {
	start := len(b)
	b = strconv.AppendInt(b, int64(rng.IntN(223)+1), 10)
	for range 3 {
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(rng.IntN(256)), 10)
	}
	// A fixed-zone date, computed by hand to keep generation cheap.
	days, s := sec/86400, sec%86400
	y, m, d := civil(days)
	b = append(b, " - - ["...)
	b = append2(b, d)
	b = append(b, '/')
	b = append(b, months[m-1]...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, ':')
	b = append2(b, int(s/3600))
	b = append(b, ':')
	b = append2(b, int(s/60%60))
	b = append(b, ':')
	b = append2(b, int(s%60))
	b = append(b, ` +0000] "`...)
	b = append(b, methods[rng.IntN(len(methods))]...)
	b = append(b, ' ')
	b = append(b, paths[rng.IntN(len(paths))]...)
	if rng.IntN(3) == 0 {
		b = append(b, "?q="...)
		b = randText(rng, b, 1+rng.IntN(60))
	}
	b = append(b, ` HTTP/1.1" `...)
	b = strconv.AppendInt(b, int64(statuses[rng.IntN(len(statuses))]), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(rng.IntN(100_000)), 10)
	if rng.IntN(2) == 0 {
		b = append(b, ` "https://example.com/`...)
		b = randText(rng, b, rng.IntN(40))
		b = append(b, `" "`...)
		b = append(b, agents[rng.IntN(len(agents))]...)
		b = append(b, '"')
	}
	// Lengths spread over 60-300: pad some lines with a request id.
	target := 60 + rng.IntN(241)
	if l := len(b) - start + 1; l < target {
		b = append(b, " rid="...)
		b = randText(rng, b, max(target-l-5, 1))
	}
	if len(b)-start > 299 {
		b = b[:start+299]
	}
	return append(b, '\n')
}

// longLine appends a line of n bytes, newline included: a JSON-ish dump.
func longLine(rng *rand.Rand, b []byte, n int) []byte {
	start := len(b)
	b = append(b, `{"level":"error","msg":"request body","body":"`...)
	for len(b)-start < n-3 {
		b = randText(rng, b, min(64, n-3-(len(b)-start)))
		b = append(b, ' ')
	}
	b = b[:start+n-3]
	return append(b, '"', '}', '\n')
}

func randText(rng *rand.Rand, b []byte, n int) []byte {
	for range n {
		b = append(b, alnum[rng.IntN(len(alnum))])
	}
	return b
}

func append2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}

// civil converts days since 1970-01-01 to a date (Howard Hinnant's
// algorithm).
func civil(days int64) (y, m, d int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}
