package rotator

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWriteError checks guarantee 9 at this level: a failed Write reports
// (0, err); the retry writes it all.
func TestWriteError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, pattern, file string }{
		{"active", "d/app.log", "d/app.log"},
		{"template", "d/%Y%m%d.log", "d/20261125.log"},
	} {
		t.Run("ENOTDIR "+tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			blocker := filepath.Join(dir, "d")
			if err := os.WriteFile(blocker, []byte("in the way\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			pat := compile(t, filepath.Join(dir, tt.pattern), "S")
			r, _ := newRot(t, pat)
			line := []byte("line\n")
			n, err := r.Write(bg, line, t0)
			if err == nil || n != 0 {
				t.Fatalf("Write under a regular file = %d, %v; want 0 and an error", n, err)
			}
			if !errors.Is(err, syscall.ENOTDIR) {
				t.Errorf("error %v, want ENOTDIR", err)
			}
			wantFile(t, blocker, "in the way\n")

			if err := os.Remove(blocker); err != nil {
				t.Fatal(err)
			}
			if n, err := r.Write(bg, line, t0.Add(10*time.Millisecond)); err != nil || n != len(line) {
				t.Fatalf("retry = %d, %v; want %d, nil", n, err, len(line))
			}
			wantFile(t, filepath.Join(dir, tt.file), "line\n")
		})
	}

	// A write that fails for a full disk (here: the descriptor is made to
	// point at /dev/full) keeps the file, so that retries make no new file
	// and the data goes where it belongs; the retry writes it there once
	// there is room (the descriptor pointed back at the file).
	t.Run("ENOSPC", func(t *testing.T) {
		t.Parallel()
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Skipf("no /dev/full: %v", err)
		}
		defer full.Close()
		dir := t.TempDir()
		pat := compile(t, filepath.Join(dir, "app.log"), "S")
		r, _ := newRot(t, pat)
		mustWrite(t, r, "a\n", t0)
		fd := int(r.f.Fd())
		saved, err := unix.Dup(fd)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(saved)
		if err := unix.Dup3(int(full.Fd()), fd, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		n, err := r.Write(bg, []byte("b\n"), t0.Add(time.Millisecond))
		if n != 0 || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Write to a full disk = %d, %v; want 0, ENOSPC", n, err)
		}
		if r.f == nil {
			t.Fatal("the file was let go after a failed Write on a full disk")
		}
		if err := unix.Dup3(saved, fd, unix.O_CLOEXEC); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, r, "b\n", t0.Add(2*time.Millisecond))
		wantFile(t, filepath.Join(dir, "app.log"), "a\nb\n")
		wantDir(t, dir, "app.log")
	})
}

// A batch written in part (the rest to be retried) is never split between
// two files: Reopen (SIGHUP) keeps the file, Rotate (SIGALRM) refuses with
// ErrTail, and the retry of the rest goes to the same file, whatever was
// asked meanwhile.
func TestTailKeptOnReopenAndRotate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pat := compile(t, filepath.Join(dir, "app.log"), "D")
	r, _ := newRot(t, pat)
	mustWrite(t, r, "a\n", t0)
	// What a short write leaves: the first part written, the rest owed.
	if _, err := r.f.Write([]byte("par")); err != nil {
		t.Fatal(err)
	}
	r.tail = true
	r.Reopen()
	if r.f == nil {
		t.Fatal("Reopen let go of a file holding part of a batch")
	}
	if err := r.Rotate(bg, t0.Add(time.Second)); !errors.Is(err, ErrTail) {
		t.Errorf("Rotate with part of a batch written = %v, want ErrTail", err)
	}
	// Someone else renames the path meanwhile: the rest still follows.
	if err := os.Rename(filepath.Join(dir, "app.log"), filepath.Join(dir, "moved")); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, r, "tial\n", t0.Add(2*time.Second))
	wantFile(t, filepath.Join(dir, "moved"), "a\npartial\n")
	r.Reopen() // the batch is whole now: this one lets go
	mustWrite(t, r, "b\n", t0.Add(3*time.Second))
	wantFile(t, filepath.Join(dir, "app.log"), "b\n")
}
