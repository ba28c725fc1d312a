// Package size reads the sizes the benchmark tools take on their command
// lines: a byte count, or a whole number with K, M or G (binary: 1K is
// 1024 bytes), either case.
package size

import (
	"fmt"
	"strconv"
	"strings"
)

// Parse reads 300M, 1G, 512k or a byte count. A negative size is an error.
func Parse(s string) (int64, error) {
	mult := int64(1)
	if s != "" {
		if i := strings.IndexByte("KMG", strings.ToUpper(s[len(s)-1:])[0]); i >= 0 {
			mult = 1 << (10 * (i + 1))
			s = s[:len(s)-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}
