package rotator

import (
	"io"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// A Codec is a compression rotated files can get. Adding one is one row of
// codecs.
type Codec struct {
	Name     string // as the user names it: "gzip"
	Ext      string // the file name extension, with its dot: ".gz"
	MinLevel int    // the levels it takes, fastest first; 0 stands for its default
	MaxLevel int

	newWriter func(w io.Writer, level int) (io.WriteCloser, error)
	newReader func(r io.Reader) (io.ReadCloser, error)
}

// codecs lists every Codec; the first is the default.
var codecs = []*Codec{
	{Name: "gzip", Ext: ".gz", MinLevel: 1, MaxLevel: 9, newWriter: func(w io.Writer, level int) (io.WriteCloser, error) {
		if level == 0 {
			level = gzip.DefaultCompression
		}
		return gzip.NewWriterLevel(w, level)
	}, newReader: func(r io.Reader) (io.ReadCloser, error) {
		return gzip.NewReader(r)
	}},
	{Name: "zstd", Ext: ".zst", MinLevel: 1, MaxLevel: 22, newWriter: func(w io.Writer, level int) (io.WriteCloser, error) {
		l := zstd.SpeedDefault
		if level != 0 {
			l = zstd.EncoderLevelFromZstd(level)
		}
		return zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(1<<20), zstd.WithEncoderLevel(l))
	}, newReader: func(r io.Reader) (io.ReadCloser, error) {
		d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		return d.IOReadCloser(), nil
	}},
}

// LookupCodec returns the Codec called name, or nil.
func LookupCodec(name string) *Codec {
	for _, c := range codecs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// DefaultCodec is the Codec used when none is named.
func DefaultCodec() *Codec { return codecs[0] }

// CodecNames returns the names of every Codec, the default first.
func CodecNames() []string {
	names := make([]string, len(codecs))
	for i, c := range codecs {
		names[i] = c.Name
	}
	return names
}

// splitCodec returns path without a compression extension, and the Codec
// whose extension it had, or nil.
func splitCodec(path string) (string, *Codec) {
	for _, c := range codecs {
		if stem, ok := strings.CutSuffix(path, c.Ext); ok {
			return stem, c
		}
	}
	return path, nil
}

// compressed reports whether name exists compressed by any Codec.
func compressed(name string) bool {
	for _, c := range codecs {
		if exists(name + c.Ext) {
			return true
		}
	}
	return false
}
