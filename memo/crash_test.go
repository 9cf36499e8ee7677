package memo_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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
	if os.Getenv(childEnv) == "writer" {
		os.Exit(crashWriter(os.Getenv(childDirEnv)))
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
		// Some results go to the value log, the rest stay in the LSM tree.
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
