package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rotlog/rotlog/rotator"
)

// metricsEvery is how often --metrics rewrites its file.
const metricsEvery = 10 * time.Second

// stats counts what a pipeline does, for --metrics. The writing path only
// adds to atomic counters; the metrics file reads them.
type stats struct {
	lines, bytes     atomic.Int64 // written
	writeErrors      atomic.Int64 // failed write attempts (each retry counts)
	blockedNanos     atomic.Int64 // time spent retrying failed writes
	linesDropped     atomic.Int64 // --on-block drop
	bytesDropped     atomic.Int64
	rotations        atomic.Int64 // files this pipeline renamed
	housekeepPasses  atomic.Int64
	housekeepBacklog atomic.Int64 // files the last pass left for a later one
	// What housekeeping did (rotator.Actions), as of the last pass.
	compressed, hookRuns, hookFailures, manifestLines, removed atomic.Int64
	lockWaits                                                  atomic.Int64 // waits for a lock another process held
	lockWaitNanos                                              atomic.Int64
}

// lockWaited counts a wait of d for a lock; s may be nil (not counting).
func (s *stats) lockWaited(d time.Duration) {
	if s == nil {
		return
	}
	s.lockWaits.Add(1)
	s.lockWaitNanos.Add(int64(d))
}

// wrote counts one write attempt that wrote p and failed with err (nil:
// it worked). blockedSince is when the previous attempt failed (zero: it
// did not): the time since then was spent blocked.
func (s *stats) wrote(p []byte, err error, blockedSince time.Time) {
	if len(p) > 0 {
		s.bytes.Add(int64(len(p)))
		s.lines.Add(int64(countNewlines(p)))
	}
	if err != nil {
		s.writeErrors.Add(1)
	}
	if !blockedSince.IsZero() {
		s.blockedNanos.Add(int64(time.Since(blockedSince)))
	}
}

// housekept counts a housekeeping pass that left backlog files for later,
// and notes what housekeeping did so far.
func (s *stats) housekept(backlog int, a rotator.Actions) {
	s.housekeepPasses.Add(1)
	s.housekeepBacklog.Store(int64(backlog))
	s.compressed.Store(a.Compressed)
	s.hookRuns.Store(a.HookRuns)
	s.hookFailures.Store(a.HookFailures)
	s.manifestLines.Store(a.Manifest)
	s.removed.Store(a.Removed)
}

// metricsName is the file --metrics keeps for target in dir, for the
// process pid: rotlog_NAME_PID.prom, NAME the target's base name with
// every character but [a-zA-Z0-9_] made an underscore.
func metricsName(dir, target string, pid int) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_':
			return r
		}
		return '_'
	}, filepath.Base(target))
	return filepath.Join(dir, fmt.Sprintf("rotlog_%s_%d.prom", name, pid))
}

// metricsFile keeps a pipeline's stats in a file for node_exporter's
// textfile collector, rewritten atomically (a temporary file renamed over
// it, so a reader never sees it half written) every metricsEvery.
//
// The file is in Prometheus's text format, written here rather than with
// the Prometheus client: the client pulls in protobuf, whose package
// initialisation opens a file before main runs, which would make rotlog's
// start-up check of file descriptors come too late (see checkDescriptors).
// The tests parse the file with the Prometheus client's own parser.
type metricsFile struct {
	path    string
	target  string
	metrics []metric
	log     *logger

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	failed   bool // a write failed and was reported; touched by one goroutine at a time
}

// metric is one metric of the file: a counter or a gauge.
type metric struct {
	name, help, kind string
	value            func() float64
}

// newMetricsFile writes the file for target's stats s at once, then every
// metricsEvery until stop.
func newMetricsFile(path, target string, s *stats, log *logger) *metricsFile {
	m := &metricsFile{path: path, target: target, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	counter := func(name, help string, v *atomic.Int64, scale float64) {
		m.metrics = append(m.metrics, metric{name, help, "counter", func() float64 { return float64(v.Load()) * scale }})
	}
	counter("rotlog_lines_written_total", "Lines written to the target.", &s.lines, 1)
	counter("rotlog_bytes_written_total", "Bytes written to the target.", &s.bytes, 1)
	counter("rotlog_write_errors_total", "Write attempts that failed (each retry counts).", &s.writeErrors, 1)
	counter("rotlog_blocked_seconds_total", "Time spent retrying failed writes.", &s.blockedNanos, 1e-9)
	counter("rotlog_lines_dropped_total", "Lines dropped by --on-block drop.", &s.linesDropped, 1)
	counter("rotlog_bytes_dropped_total", "Bytes dropped by --on-block drop.", &s.bytesDropped, 1)
	counter("rotlog_rotations_total", "Files this pipeline rotated.", &s.rotations, 1)
	counter("rotlog_lock_waits_total", "Waits for a lock another process held.", &s.lockWaits, 1)
	counter("rotlog_lock_wait_seconds_total", "Time spent waiting for locks other processes held.", &s.lockWaitNanos, 1e-9)
	counter("rotlog_housekeeping_passes_total", "Housekeeping passes run.", &s.housekeepPasses, 1)
	counter("rotlog_housekeeping_compressions_total", "Rotated files compressed.", &s.compressed, 1)
	counter("rotlog_housekeeping_hook_runs_total", "Post-rotate commands run, whatever their outcome.", &s.hookRuns, 1)
	counter("rotlog_housekeeping_hook_failures_total", "Post-rotate commands that failed (each is tried again).", &s.hookFailures, 1)
	counter("rotlog_housekeeping_manifest_lines_total", "Manifest lines written.", &s.manifestLines, 1)
	counter("rotlog_housekeeping_removals_total", "Rotated files removed, by retention or the disk budget.", &s.removed, 1)
	m.metrics = append(m.metrics, metric{"rotlog_housekeeping_backlog",
		"Rotated files the last housekeeping pass left with work for a later one (still held, not yet due, a hook or compression to retry).",
		"gauge", func() float64 { return float64(s.housekeepBacklog.Load()) }})
	m.write()
	go m.run()
	return m
}

// text is the file's content in Prometheus's text exposition format.
func (m *metricsFile) text() []byte {
	label := `{target="` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(m.target) + `"}`
	var b bytes.Buffer
	for _, x := range m.metrics {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s%s %s\n",
			x.name, x.help, x.name, x.kind, x.name, label, strconv.FormatFloat(x.value(), 'g', -1, 64))
	}
	return b.Bytes()
}

// writeFile replaces the file with a new one, atomically.
func (m *metricsFile) writeFile() error {
	tmp := fmt.Sprintf("%s.tmp-%d", m.path, os.Getpid())
	if err := os.WriteFile(tmp, m.text(), 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // readable whatever the umask
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, m.path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

func (m *metricsFile) run() {
	defer close(m.done)
	t := time.NewTicker(metricsEvery)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.write()
		}
	}
}

// write writes the file, reporting the first failure and the recovery.
func (m *metricsFile) write() {
	err := m.writeFile()
	switch {
	case err != nil && !m.failed:
		m.failed = true
		m.log.warnf("--metrics: %v; metrics are not updated until this works", err)
	case err == nil && m.failed:
		m.failed = false
		m.log.warnf("--metrics: %s is written again", m.path)
	}
}

// close stops the updates. After a clean exit the file is removed (a
// finished pipeline has nothing to report); otherwise it is written one
// last time and left for the operator to see.
func (m *metricsFile) close(clean bool) {
	m.stopOnce.Do(func() { close(m.stop) })
	<-m.done
	if !clean {
		m.write()
		return
	}
	if err := os.Remove(m.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		m.log.warnf("--metrics: %v", err)
	}
}
