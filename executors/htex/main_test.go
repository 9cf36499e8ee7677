package htex

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/starflow-hpc/starflow/dfk"
)

// The test binary doubles as a worker process: re-executed with
// HTEX_TEST_WORKER set to a JSON childConfig, it runs that many workers
// and exits, so tests can SIGKILL a real worker process.

type childConfig struct {
	Worker  WorkerConfig
	Workers int // worker connections in this process
}

func TestMain(m *testing.M) {
	if js := os.Getenv("HTEX_TEST_WORKER"); js != "" {
		os.Exit(runChild(js))
	}
	os.Exit(m.Run())
}

func runChild(js string) int {
	var cc childConfig
	if err := json.Unmarshal([]byte(js), &cc); err != nil {
		fmt.Fprintln(os.Stderr, "child worker:", err)
		return 2
	}
	cc.Worker.Logger = hclog.New(&hclog.LoggerOptions{Output: os.Stderr, Level: hclog.Warn})
	n := max(cc.Workers, 1)
	errs := make(chan error, n)
	for i := range n {
		cfg := cc.Worker
		cfg.BlockID = cfg.BlockID + "-" + strconv.Itoa(i)
		if n == 1 {
			cfg.BlockID = cc.Worker.BlockID
		}
		go func() { errs <- RunWorker(context.Background(), cfg, echoRunner{}) }()
	}
	code := 0
	for range n {
		if err := <-errs; err != nil {
			fmt.Fprintln(os.Stderr, "child worker:", err)
			code = 1
		}
	}
	return code
}

// echoRunner answers each task with its arguments. Args "block" wait for
// cancellation instead; Args "fail" raise.
type echoRunner struct{}

func (echoRunner) Run(ctx context.Context, t *Task, env SlotEnv) *Result {
	switch string(t.Args) {
	case "block":
		<-ctx.Done()
		return &Result{Err: &RemoteError{Kind: "Cancelled", Message: context.Cause(ctx).Error()}}
	case "fail":
		return &Result{Err: &RemoteError{Kind: "ValueError", Message: "bad input", Traceback: "line 1"}}
	}
	return &Result{Value: t.Args}
}

// runnerFunc adapts a function to Runner.
type runnerFunc func(ctx context.Context, t *Task, env SlotEnv) *Result

func (f runnerFunc) Run(ctx context.Context, t *Task, env SlotEnv) *Result { return f(ctx, t, env) }

// numCall is a fake Call whose arguments are a number or a word; its
// value is what the worker sent back.
type numCall struct {
	args   []byte
	bundle string // hash; the bundle's bytes are "code:" + hash
	err    error  // returned by Encode
}

func callN(n int) *numCall { return &numCall{args: binary.AppendUvarint(nil, uint64(n))} }

func (c *numCall) Encode() (*Task, error) {
	if c.err != nil {
		return nil, c.err
	}
	t := &Task{Kind: KindPython, App: "f", Func: "f", Args: c.args}
	if c.bundle != "" {
		t.BundleHash, t.Bundle = c.bundle, []byte("code:"+c.bundle)
	}
	return t, nil
}

func (c *numCall) Decode(res *Result) (any, error) {
	if res.Err != nil {
		return nil, res.Err
	}
	if n, k := binary.Uvarint(res.Value); k == len(res.Value) && k > 0 {
		return int(n), nil
	}
	return string(res.Value), nil
}

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixture is an interchange behind a real kernel.
type fixture struct {
	e    *Executor
	k    *dfk.Kernel
	logs *lockedBuffer
}

// fastConfig heartbeats often but gives up on a peer only after a long
// silence, so a loaded machine does not lose workers by accident.
func fastConfig(t testing.TB) Config {
	return Config{
		Label: "htex", RunID: "run-1", RunDir: t.TempDir(), Address: "127.0.0.1",
		HeartbeatPeriod: 50 * time.Millisecond, HeartbeatThreshold: 20 * time.Second,
		HandshakeTimeout: 2 * time.Second,
	}
}

// lossConfig is for tests of silent peers: they are given up on quickly.
func lossConfig(t testing.TB) Config {
	cfg := fastConfig(t)
	cfg.HeartbeatThreshold = 500 * time.Millisecond
	return cfg
}

func newFixture(t testing.TB, cfg Config, retries int) *fixture {
	t.Helper()
	f := &fixture{logs: &lockedBuffer{}}
	if cfg.Logger == nil {
		cfg.Logger = hclog.New(&hclog.LoggerOptions{Output: f.logs, Level: hclog.Debug})
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	k, err := dfk.New(context.Background(), dfk.Config{Executors: []dfk.Executor{e}, Retries: retries})
	if err != nil {
		t.Fatal(err)
	}
	f.e, f.k = e, k
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := k.Shutdown(ctx); err != nil {
			t.Errorf("kernel Shutdown: %v", err)
		}
	})
	return f
}

func (f *fixture) submit(c Call) *dfk.Future {
	return f.k.Submit(dfk.Spec{App: "f", Kind: dfk.Python, Payload: c})
}

func (f *fixture) workerConfig(block string, slots int) WorkerConfig {
	ep := f.e.Endpoint()
	return WorkerConfig{
		Addrs: []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(ep.Port))},
		RunID: ep.RunID, Secret: ep.Secret, Fingerprint: ep.Fingerprint, Unencrypted: ep.Unencrypted,
		Hostname: "node-" + block, BlockID: block, Slots: slots,
	}
}

// startWorker runs a worker in this process; its error arrives on the
// channel once it returns. Cleanup cancels it if the test did not.
func (f *fixture) startWorker(t testing.TB, cfg WorkerConfig, r Runner) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		out <- RunWorker(ctx, cfg, r)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return out
}

// startChild runs workers in a re-executed test binary.
func (f *fixture) startChild(t testing.TB, cfg WorkerConfig, workers int) *exec.Cmd {
	t.Helper()
	js, err := json.Marshal(childConfig{Worker: cfg, Workers: workers})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "HTEX_TEST_WORKER="+string(js))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

func wait(t testing.TB, fut *dfk.Future) (any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := fut.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatalf("task %d did not finish", fut.ID())
	}
	return v, err
}

// eventually polls cond; the deadline only stops a hung test.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func asManagerLost(err error) *ManagerLost {
	var ml *ManagerLost
	if errors.As(err, &ml) {
		return ml
	}
	return nil
}
