package bash

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// outputs holds the writers a command's stdout and stderr go to.
type outputs struct {
	stdout, stderr io.Writer
	files          [2]*os.File // opened by openOutputs, to close once the child runs
}

func (o *outputs) close() {
	for _, f := range o.files {
		if f != nil {
			f.Close()
		}
	}
}

// openOutputs opens the redirect files of s. Files are handed to the child
// as they are, so output written to them never passes through this process.
func openOutputs(s *Spec) (outputs, error) {
	var o outputs
	outPath, errPath := s.resolve(s.Stdout.Path), s.resolve(s.Stderr.Path)
	if outPath != "" {
		appendMode := s.Stdout.Append
		if errPath == outPath {
			// One handle for both streams, like >out 2>&1: two handles would
			// each keep their own offset and overwrite each other's output.
			// Truncating wins, as it would when bash opened the file twice.
			appendMode = appendMode && s.Stderr.Append
		}
		f, err := openRedirect(outPath, appendMode)
		if err != nil {
			return o, fmt.Errorf("open stdout %q: %w", outPath, err)
		}
		o.files[0], o.stdout = f, f
	} else {
		o.stdout = s.DefaultStdout
	}

	switch {
	case errPath == "":
		o.stderr = s.DefaultStderr
	case errPath == outPath:
		o.stderr = o.files[0]
	default:
		f, err := openRedirect(errPath, s.Stderr.Append)
		if err != nil {
			o.close()
			return outputs{}, fmt.Errorf("open stderr %q: %w", errPath, err)
		}
		o.files[1], o.stderr = f, f
	}
	return o, nil
}

// resolve makes a relative redirect path relative to s.Dir, where the
// command runs, and cleans it so that equal files compare equal.
func (s *Spec) resolve(path string) string {
	if path == "" {
		return ""
	}
	if s.Dir != "" && !filepath.IsAbs(path) {
		return filepath.Join(s.Dir, path)
	}
	return filepath.Clean(path)
}

func openRedirect(path string, appendMode bool) (*os.File, error) {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendMode {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		// Creating directories only after a failed open keeps the usual
		// case, where they exist, at one system call.
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(path, flag, 0o644)
	}
	return f, err
}
