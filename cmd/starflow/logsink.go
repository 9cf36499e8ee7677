package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// logSink is the log's destination: memory until the first run folder
// exists, then runinfo/NNN/starflow.log. A script that fails before any
// run starts leaves no folder and no log file behind.
type logSink struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	file *os.File
}

func newLogSink() *logSink { return &logSink{} }

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		return s.file.Write(p)
	}
	return s.buf.Write(p)
}

// OpenIn starts writing to dir/starflow.log, with what was logged so far.
// A later run folder (parsl.clear then parsl.load) gets its own log.
func (s *logSink) OpenIn(dir string) error {
	f, err := os.OpenFile(filepath.Join(dir, "starflow.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open run log: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		_ = s.file.Close()
	}
	if _, err := s.buf.WriteTo(f); err != nil {
		return fmt.Errorf("write run log: %w", err)
	}
	s.file = f
	return nil
}

// Discard drops the log: nothing ran, so there is nothing to keep.
func (s *logSink) Discard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Reset()
}

func (s *logSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file == nil {
		return nil
	}
	err := s.file.Close()
	s.file = nil
	return err
}
