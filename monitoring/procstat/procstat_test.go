package procstat

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseCountsFieldsAfterTheCommandName(t *testing.T) {
	t.Parallel()
	// The command name holds spaces and a ')': fields are counted from
	// its last ')'.
	line := "4242 (my (odd) app) S 1 4240 4240 0 -1 4194560 100 0 0 0 250 30 7 2 20 0 1 0 100 123456789 321 18446744073709551615"
	st, ok := Parse([]byte(line))
	if !ok {
		t.Fatal("Parse refused a valid line")
	}
	want := Stat{State: 'S', PPID: 1, PGRP: 4240, Utime: 250, Stime: 30, Cutime: 7, Cstime: 2, VSize: 123456789, RSSPages: 321}
	if st != want {
		t.Errorf("Parse = %+v, want %+v", st, want)
	}
	if st.Status() != "sleeping" {
		t.Errorf("Status = %q", st.Status())
	}
	if _, ok := Parse([]byte("12 (truncated) S 1")); ok {
		t.Error("Parse accepted a truncated line")
	}
}

func TestReadThisProcess(t *testing.T) {
	t.Parallel()
	st, ok := Read(os.Getpid())
	if !ok || st.RSSPages <= 0 || st.VSize <= 0 || st.PPID != os.Getppid() {
		t.Errorf("Read(self) = %+v, %v", st, ok)
	}
	if u := Process(os.Getpid()); !u.OK || u.Procs != 1 || u.RSS <= 0 || u.Status == "" {
		t.Errorf("Process(self) = %+v", u)
	}
	if MemTotal() <= 0 {
		t.Error("MemTotal is 0")
	}
}

// A process group of a shell and its child is summed as one, and the
// shell's environment is readable by its owner.
func TestGroupsAndGetenv(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("/bin/bash", "-c", "sleep 30 & wait")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "PROCSTAT_TEST=7")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	// Right after exec the environment reads empty for a moment, the
	// shell starts sleep after one, and only then waits (sleeps): wait
	// for all three.
	var u Usage
	var env string
	for range 200 {
		env, _ = Getenv(pgid, "PROCSTAT_TEST")
		if u = Groups(map[int]bool{pgid: true})[pgid]; u.Procs == 2 && u.Status == "sleeping" && env != "" {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if env != "7" {
		t.Errorf("Getenv = %q, want 7", env)
	}
	if _, ok := Getenv(pgid, "PROCSTAT_NONE"); ok {
		t.Error("Getenv found a variable the process does not have")
	}
	if !u.OK || u.Procs != 2 || u.RSS <= 0 || u.Status != "sleeping" {
		t.Errorf("the group = %+v, want the shell and sleep, the shell sleeping", u)
	}
	if g := Groups(map[int]bool{1 << 30: true}); len(g) != 0 {
		t.Errorf("a group with no process: %+v", g)
	}
}

// The package sits below everything that samples processes (the recorder
// and the HTEX worker): it must import nothing of starflow.
func TestImportsNothingOfStarflow(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		ast, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, "github.com/starflow-hpc/starflow") {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
