package main

import (
	"bytes"
	"testing"
)

// TestGenerate checks the corpus's promises: exactly the size asked, whole
// lines, 60 to 300 bytes but for the long ones (10 to 50 KB), and the same
// bytes for the same seed.
func TestGenerate(t *testing.T) {
	const size = 4 << 20
	var a, b, c bytes.Buffer
	if err := Generate(&a, size, 7, 200); err != nil {
		t.Fatal(err)
	}
	Generate(&b, size, 7, 200)
	Generate(&c, size, 8, 200)
	if a.Len() != size {
		t.Fatalf("size %d, want %d", a.Len(), size)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same seed, different corpus")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Fatal("different seeds, same corpus")
	}
	lines := bytes.SplitAfter(a.Bytes(), []byte("\n"))
	if last := lines[len(lines)-1]; len(last) != 0 {
		t.Fatalf("corpus ends in %q, not a newline", last)
	}
	lines = lines[:len(lines)-1]
	long := 0
	for i, l := range lines[:len(lines)-1] { // the last one may be cut to fit
		switch n := len(l); {
		case n >= 10_000 && n <= 50_000:
			long++
		case n < 60 || n > 300:
			t.Fatalf("line %d is %d bytes: %q", i, n, l)
		}
	}
	if long == 0 {
		t.Fatal("no long line")
	}
}
