package memo_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/memo"
	"github.com/starflow-hpc/starflow/memo/memotest"
)

// The crash test re-executes this test binary as a writer that is killed
// with SIGKILL half-way; these variables tell the child what to do.
const (
	childEnv    = "STARFLOW_MEMO_TEST_CHILD"
	childDirEnv = "STARFLOW_MEMO_TEST_DIR"
)

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "writer":
		os.Exit(crashWriter(os.Getenv(childDirEnv)))
	case "folder":
		os.Exit(crashFolder(os.Getenv(childDirEnv)))
	}
	os.Exit(m.Run())
}

// crashWriter puts entries from several goroutines, as completing tasks
// would, and prints each name once its Put has returned. It stops only
// when killed, or after a minute if nobody kills it.
func crashWriter(dir string) int {
	s, err := memo.Open(dir, memo.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				name := fmt.Sprintf("crash/%d/%d", g, i)
				if err := s.Put(ctx, crashEntry(name)); err != nil {
					return
				}
				mu.Lock()
				// One short write per line: a pipe never splits it.
				os.Stdout.WriteString(name + "\n")
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s.Close()
	return 0
}

func crashEntry(name string) memo.Entry {
	e := memotest.E(name)
	if strings.HasSuffix(name, "7") {
		// Some results are large: folded, they go to the value log, the
		// rest stay in the LSM tree.
		e.Value = bytes.Repeat([]byte(name), 400)
	}
	return e
}

func TestBadgerCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=writer", childDirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() // should the test fail before its own kill

	var durable []string
	lines := bufio.NewScanner(stdout)
	for len(durable) < 2000 && lines.Scan() {
		durable = append(durable, lines.Text())
		if len(durable) == 1 {
			checkHeldBy(t, dir, cmd.Process.Pid)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() { // what it printed before it died was durable too
		durable = append(durable, lines.Text())
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("writer did not die of SIGKILL: %v\n%s", err, stderr.Bytes())
	}
	if len(durable) < 2000 {
		t.Fatalf("writer printed %d entries before it died, want 2000\n%s", len(durable), stderr.Bytes())
	}

	// The lock died with the writer; the store opens cleanly and holds
	// every entry the writer was told was durable.
	s := openBadger(t, dir, memo.Options{OnDamaged: func(k memo.Key, err error) {
		t.Errorf("damaged entry %s after the crash: %v", k, err)
	}})
	defer closeBadger(t, s)
	for _, name := range durable {
		want := crashEntry(name)
		got, ok, err := s.Get(ctx, want.Key)
		if err != nil || !ok {
			t.Fatalf("entry %s, durable before the crash: ok=%v err=%v", name, ok, err)
		}
		if d := memotest.Equal(got, want); d != "" {
			t.Fatalf("entry %s after the crash: %s", name, d)
		}
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d entries reported durable, %d in the store after SIGKILL", len(durable), st.Entries)
	if err := s.Put(ctx, memotest.E("after")); err != nil {
		t.Errorf("Put after the crash: %v", err)
	}
}

// checkHeldBy checks that opening the store while pid holds it fails with
// a message naming that process.
func checkHeldBy(t *testing.T, dir string, pid int) {
	t.Helper()
	_, err := memo.Open(dir, memo.Options{})
	var inUse *memo.InUseError
	if !errors.As(err, &inUse) {
		t.Fatalf("Open while another process has the store: %v, want an *InUseError", err)
	}
	if inUse.Holder.PID != pid || !strings.Contains(inUse.Holder.Command, "-test.run") {
		t.Errorf("holder %+v, want pid %d running this test binary", inUse.Holder, pid)
	}
	t.Logf("second open: %v", err)
}

// crashFolder folds the store's results log into its database, as
// `starflow memo gc` does, saying when it starts.
func crashFolder(dir string) int {
	s, err := memo.Open(dir, memo.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Stdout.WriteString("folding\n")
	if err := s.GC(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := s.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Stdout.WriteString("done\n")
	return 0
}

// A fold killed at any point leaves a store that opens cleanly and holds
// what it held before: every entry, and none of the deleted ones.
func TestBadgerCrashDuringFold(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	t.Parallel()
	dir := t.TempDir()
	const n = 20000
	s := openBadger(t, dir, memo.Options{})
	batch := make([]memo.Entry, 0, n)
	for i := range n {
		batch = append(batch, crashEntry(fmt.Sprintf("fold/%d", i)))
	}
	if err := s.Put(ctx, batch...); err != nil {
		t.Fatal(err)
	}
	closeBadger(t, s)
	s = openBadger(t, dir, memo.Options{})
	var deleted []memo.Key
	for i := 0; i < n; i += 10 {
		deleted = append(deleted, batch[i].Key)
	}
	if err := s.Delete(ctx, deleted...); err != nil {
		t.Fatal(err)
	}
	closeBadger(t, s)

	// Kill the fold sooner or later into it; the last one may finish.
	for _, after := range []time.Duration{0, 5 * time.Millisecond, 20 * time.Millisecond, 60 * time.Millisecond, 120 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, time.Minute} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"=folder", childDirEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || lines.Text() != "folding" {
			cmd.Process.Kill()
			t.Fatalf("folder did not start: %s", stderr.Bytes())
		}
		timer := time.AfterFunc(after, func() { cmd.Process.Signal(syscall.SIGKILL) })
		for lines.Scan() {
		}
		err = cmd.Wait()
		timer.Stop()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("folder: %v\n%s", err, stderr.Bytes())
		}
		if err != nil && exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("folder failed: %v\n%s", err, stderr.Bytes())
		}

		left, _ := filepath.Glob(filepath.Join(dir, "log", "*.log"))
		t.Logf("killed %v into the fold: %d log segments left (exit: %v)", after, len(left), err)
		s := openBadger(t, dir, memo.Options{OnDamaged: func(k memo.Key, err error) {
			t.Errorf("damaged entry %s after killing the fold: %v", k, err)
		}})
		for i, want := range batch {
			got, ok, err := s.Get(ctx, want.Key)
			if err != nil || ok != (i%10 != 0) {
				t.Fatalf("killed %v into the fold: entry %d: ok=%v err=%v, want ok=%v", after, i, ok, err, i%10 != 0)
			}
			if ok {
				if d := memotest.Equal(got, want); d != "" {
					t.Fatalf("killed %v into the fold: entry %d: %s", after, i, d)
				}
			}
		}
		closeBadger(t, s)
	}
}
