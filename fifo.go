package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// openFIFO opens the named pipe path for --input, making it with mode
// (then umask) if it is missing. It returns the read end and a write end
// that rotlog holds itself: while rotlog holds a write end, the read end
// never meets end of input when the last program writing the pipe closes
// it; it waits for the next one (as daemontools' and s6's loggers do), and
// never spins. A stop closes that write end (see source.run): reading then
// ends when the programs writing have closed it too, or at the drain's end.
//
// A path that exists and is not a named pipe is a usage error.
func openFIFO(path string, mode uint32) (r, w *os.File, err error) {
	if err := unix.Mkfifo(path, mode); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, nil, &fs.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	// Check before opening: opening some devices does things.
	if fi, err := os.Stat(path); err != nil {
		return nil, nil, err
	} else if fi.Mode().Type() != fs.ModeNamedPipe {
		return nil, nil, usagef("--input: %s exists and is not a named pipe", path)
	}
	// Non-blocking: an open for reading does not wait for a writer.
	rfd, err := openFIFOEnd(path, unix.O_RDONLY)
	if err != nil {
		return nil, nil, err
	}
	// There is a reader now (us), so this does not block or fail either.
	wfd, err := openFIFOEnd(path, unix.O_WRONLY)
	if err != nil {
		unix.Close(rfd)
		return nil, nil, err
	}
	// Both ends must be the pipe that was checked, not something put at
	// path meanwhile.
	var rst, wst unix.Stat_t
	if unix.Fstat(rfd, &rst) != nil || unix.Fstat(wfd, &wst) != nil ||
		rst.Mode&unix.S_IFMT != unix.S_IFIFO || rst.Dev != wst.Dev || rst.Ino != wst.Ino {
		unix.Close(rfd)
		unix.Close(wfd)
		return nil, nil, fmt.Errorf("--input: %s changed while it was opened", path)
	}
	return os.NewFile(uintptr(rfd), path), os.NewFile(uintptr(wfd), path), nil
}

func openFIFOEnd(path string, flag int) (int, error) {
	for {
		fd, err := unix.Open(path, flag|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}
