package providers

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// WorkerInitFailed starts the line a block's script writes to its stderr
// when worker_init fails, so the failure reads as such in the block's
// Status instead of as a worker that never came.
const WorkerInitFailed = "starflow: worker_init failed with exit code"

// BlockScript is the body of a block's script, after any scheduler header
// (#!/bin/bash, #SBATCH lines): the environment Parsl's launchers expect,
// worker_init, then the launcher-wrapped command. A worker_init that fails
// ends the script with its exit code, and a line saying so on stderr;
// without that guard the launcher would start workers in a broken
// environment and the block would hang instead of failing with
// worker_init's own stderr.
func BlockScript(b Block, s Settings) string {
	var w strings.Builder
	// JOBNAME names the scratch files of the mpiexec launcher; the block id
	// is the worker's PARSL_WORKER_BLOCK_ID, set here so that a script run
	// by hand starts the same worker.
	fmt.Fprintf(&w, "export JOBNAME=%s\n", shellQuote(b.Name()))
	fmt.Fprintf(&w, "export PARSL_WORKER_BLOCK_ID=%d\n", b.ID)
	if init := strings.TrimSpace(s.WorkerInit); init != "" {
		// The trap also catches a worker_init that calls exit itself
		// (Parsl users write "... || exit 1"), which ends the script
		// before any test after the group could run.
		fmt.Fprintf(&w, "\n# worker_init\ntrap 'rc=$?; [ \"$rc\" = 0 ] || echo \"%s $rc\" >&2' EXIT\n{\n", WorkerInitFailed)
		w.WriteString(init)
		// Not "} || exit": a || list would switch off a set -e that
		// worker_init turns on.
		w.WriteString("\n}\nrc=$?; [ \"$rc\" = 0 ] || exit \"$rc\"\ntrap - EXIT\n")
	}
	w.WriteString("\n")
	cmd := b.Command
	if s.Launcher != nil {
		cmd = s.Launcher.Wrap(b.Command, b.Tasks(), max(s.NodesPerBlock, 1))
	}
	w.WriteString(cmd)
	if !strings.HasSuffix(cmd, "\n") {
		w.WriteString("\n")
	}
	return w.String()
}

// shellQuote quotes s for bash unless it is plainly safe.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '.' || r == '-' || r == '_' || r == '/' ||
			('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z'))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Tail returns the last lines of the file at path (at most maxLines lines
// and about 4 KiB), trimmed: what a failed block's Status quotes from its
// stderr. A file that cannot be read gives "".
func Tail(path string, maxLines int) string {
	const window = 4 << 10
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(info.Size()-window, 0)
	buf := make([]byte, info.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return ""
	}
	if off > 0 { // drop the partial first line
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	lines := strings.Split(strings.TrimRight(string(buf), "\n\r\t "), "\n")
	if len(lines) > maxLines {
		lines = lines[len(lines)-maxLines:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// ExitMessage describes a block that exited with code and quotes the tail
// of its stderr file.
func ExitMessage(code int, stderrPath string) string {
	msg := "exit code " + strconv.Itoa(code)
	if tail := Tail(stderrPath, 10); tail != "" {
		return msg + "; " + stderrPath + " ends with:\n" + tail
	}
	return msg + " (" + stderrPath + " is empty)"
}
