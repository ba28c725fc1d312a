package size

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]int64{"300M": 300 << 20, "1G": 1 << 30, "512k": 512 << 10, "1000": 1000, "0": 0} {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-1", "1T", "1.5M"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		}
	}
}
