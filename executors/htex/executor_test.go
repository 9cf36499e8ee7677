package htex

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{}, "label"},
		{Config{Label: "a/b"}, "label"},
		{Config{Label: "x", PortRange: [2]int{5000, 4000}}, "interchange_port_range"},
		{Config{Label: "x", PortRange: [2]int{0, 4000}}, "interchange_port_range"},
		{Config{Label: "x", PrefetchCapacity: -1}, "prefetch_capacity"},
		{Config{Label: "x", HeartbeatPeriod: time.Minute, HeartbeatThreshold: time.Second}, "heartbeat_threshold"},
		{Config{Label: "x", MaxFrame: 10}, "frame limit"},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v, want an error naming %s", tt.cfg, err, tt.want)
		}
	}
}

// TestManyTasks runs a few thousand tasks over two workers and checks
// every value came back to its own future.
func TestManyTasks(t *testing.T) {
	t.Parallel()
	cfg := fastConfig(t)
	cfg.PrefetchCapacity = 2
	f := newFixture(t, cfg, 0)
	f.startWorker(t, f.workerConfig("0", 3), echoRunner{})
	f.startWorker(t, f.workerConfig("1", 2), echoRunner{})
	const n = 3000
	futs := make([]*dfk.Future, n)
	for i := range futs {
		futs[i] = f.submit(callN(i))
	}
	for i, fut := range futs {
		v, err := wait(t, fut)
		if err != nil || v != i {
			t.Fatalf("task %d = (%v, %v), want %d", i, v, err, i)
		}
	}
}

// TestDependentTasks chains tasks through the kernel: each is submitted
// to the interchange only when the one before it is done.
func TestDependentTasks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	f.startWorker(t, f.workerConfig("0", 2), echoRunner{})
	var prev *dfk.Future
	for i := range 200 {
		var deps []*dfk.Future
		if prev != nil {
			deps = []*dfk.Future{prev}
		}
		prev = f.k.Submit(dfk.Spec{App: "f", Kind: dfk.Python, Deps: deps, Payload: callN(i)})
	}
	if v, err := wait(t, prev); err != nil || v != 199 {
		t.Fatalf("last of the chain = (%v, %v)", v, err)
	}
}

func TestTaskFailures(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	f.startWorker(t, f.workerConfig("0", 1), echoRunner{})

	_, err := wait(t, f.submit(&numCall{args: []byte("fail")}))
	var re *RemoteError
	if !errors.As(err, &re) || re.Kind != "ValueError" || re.Traceback != "line 1" {
		t.Errorf("raising task: error %v, want the worker's ValueError", err)
	}

	_, err = wait(t, f.submit(&numCall{err: errors.New("argument x: an open file cannot travel")}))
	if err == nil || !strings.Contains(err.Error(), "argument x: an open file cannot travel") {
		t.Errorf("unencodable task: error %v, want the Encode error", err)
	}

	_, err = wait(t, f.k.Submit(dfk.Spec{App: "g", Kind: dfk.Python, Payload: 42}))
	if err == nil || !strings.Contains(err.Error(), "no remote call") {
		t.Errorf("task without a Call: error %v", err)
	}

	// The worker is still fine after all that.
	if v, err := wait(t, f.submit(callN(7))); err != nil || v != 7 {
		t.Errorf("after failures: (%v, %v)", v, err)
	}
}

func TestOversizedTaskFailsAlone(t *testing.T) {
	t.Parallel()
	cfg := fastConfig(t)
	cfg.MaxFrame = helloMaxFrame
	f := newFixture(t, cfg, 0)
	f.startWorker(t, f.workerConfig("0", 1), echoRunner{})
	_, err := wait(t, f.submit(&numCall{args: make([]byte, 2*helloMaxFrame)}))
	if err == nil || !strings.Contains(err.Error(), "frame limit") {
		t.Errorf("oversized task: error %v, want one naming the frame limit", err)
	}
	if v, err := wait(t, f.submit(callN(3))); err != nil || v != 3 {
		t.Errorf("next task: (%v, %v)", v, err)
	}
}

// TestSlotEnv checks ranks and accelerators as the Runner sees them.
func TestSlotEnv(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	var mu sync.Mutex
	seen := map[int]SlotEnv{}
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	r := runnerFunc(func(ctx context.Context, task *Task, env SlotEnv) *Result {
		mu.Lock()
		seen[env.Rank] = env
		mu.Unlock()
		started <- struct{}{}
		<-release // hold every slot so each rank gets a task
		return &Result{Value: task.Args}
	})
	cfg := f.workerConfig("b7", 3)
	cfg.Accelerators = []string{"0", "1"}
	f.startWorker(t, cfg, r)
	var futs []*dfk.Future
	for i := range 3 {
		futs = append(futs, f.submit(callN(i)))
	}
	for range 3 {
		<-started
	}
	close(release)
	for _, fut := range futs {
		if _, err := wait(t, fut); err != nil {
			t.Fatal(err)
		}
	}
	for rank, accel := range []string{"0", "1", "0"} {
		env := seen[rank]
		if env.Accelerator != accel || env.BlockID != "b7" || env.Count != 3 {
			t.Errorf("rank %d: %+v, want accelerator %s", rank, env, accel)
		}
		vars := env.Environ()
		for _, want := range []string{"PARSL_WORKER_RANK=" + strconv.Itoa(rank), "CUDA_VISIBLE_DEVICES=" + accel, "PARSL_WORKER_BLOCK_ID=b7"} {
			if !slices.Contains(vars, want) {
				t.Errorf("rank %d: Environ() = %v, missing %s", rank, vars, want)
			}
		}
	}
}

// TestBundleTravelsOnce: the runner always sees the bundle, while the
// interchange sends its bytes to each worker once.
func TestBundleTravelsOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	var bad atomic.Int32
	r := runnerFunc(func(ctx context.Context, task *Task, env SlotEnv) *Result {
		if string(task.Bundle) != "code:"+task.BundleHash {
			bad.Add(1)
		}
		return &Result{Value: task.Args}
	})
	f.startWorker(t, f.workerConfig("0", 2), r)
	var futs []*dfk.Future
	for i := range 100 {
		futs = append(futs, f.submit(&numCall{args: []byte("x" + strconv.Itoa(i)), bundle: "h" + strconv.Itoa(i%3)}))
	}
	for _, fut := range futs {
		if _, err := wait(t, fut); err != nil {
			t.Fatal(err)
		}
	}
	if n := bad.Load(); n != 0 {
		t.Errorf("%d tasks reached the runner without their bundle", n)
	}
	// The wire side, on a fresh interchange: a raw worker sees the bytes
	// only on the first task of each hash.
	f = newFixture(t, fastConfig(t), 0)
	c := dialRaw(t, f, goodHello(f, 1))
	for i := range 4 {
		fut := f.submit(&numCall{args: []byte("y"), bundle: "hz"})
		task := c.expectTask(t)
		if got, want := task.Bundle != nil, i == 0; got != want {
			t.Errorf("raw task %d: bundle sent = %v, want %v", i, got, want)
		}
		c.send(t, &Result{ID: task.ID, Try: task.Try, Value: []byte("ok")})
		if _, err := wait(t, fut); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRunFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	ep := f.e.Endpoint()
	for _, p := range []string{ep.SecretFile, ep.CertFile} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
	}
	secret, err := ReadSecretFile(ep.SecretFile)
	if err != nil || secret != ep.Secret {
		t.Errorf("ReadSecretFile = (%q, %v), want the endpoint's secret", secret, err)
	}
	pemBytes, err := os.ReadFile(ep.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(cert.Raw) != ep.Fingerprint {
		t.Errorf("certificate file fingerprint differs from the endpoint's")
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("certificate key is %T, want ECDSA P-256", cert.PublicKey)
	}
}

func TestPortTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	cfg := fastConfig(t)
	cfg.PortRange = [2]int{port, port}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dfk.New(context.Background(), dfk.Config{Executors: []dfk.Executor{e}})
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(port)) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("start on a taken port: %v, want an error naming the port", err)
	}
}

func TestPortRange(t *testing.T) {
	t.Parallel()
	// Take one port of a two-port range; the interchange gets the other.
	var ln net.Listener
	var port int
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		if port < 65535 {
			ln = l
			break
		}
		l.Close()
	}
	defer ln.Close()
	cfg := fastConfig(t)
	cfg.PortRange = [2]int{port, port + 1}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Skipf("port %d taken by someone else: %v", port+1, err)
	}
	defer e.Shutdown(context.Background())
	if got := e.Endpoint().Port; got != port+1 {
		t.Errorf("listening on %d, want %d", got, port+1)
	}
}

func TestUnencryptedSaysSoAndWorks(t *testing.T) {
	t.Parallel()
	cfg := fastConfig(t)
	cfg.Unencrypted = true
	f := newFixture(t, cfg, 0)
	if !strings.Contains(f.logs.String(), "[WARN]") || !strings.Contains(f.logs.String(), "encrypted=False") {
		t.Errorf("no warning about encrypted=False in the log:\n%s", f.logs)
	}
	f.startWorker(t, f.workerConfig("0", 1), echoRunner{})
	if v, err := wait(t, f.submit(callN(5))); err != nil || v != 5 {
		t.Errorf("(%v, %v)", v, err)
	}
}

// TestShutdownStopsWorkers: every worker, in this process or another,
// gets Stop and leaves cleanly, and Shutdown returns.
func TestShutdownStopsWorkers(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	var errs []<-chan error
	for i := range 3 {
		errs = append(errs, f.startWorker(t, f.workerConfig(strconv.Itoa(i), 2), echoRunner{}))
	}
	child := f.startChild(t, f.workerConfig("child", 2), 1)
	eventually(t, "four workers registered", func() bool { return len(f.e.Managers()) == 4 })
	var futs []*dfk.Future
	for i := range 100 {
		futs = append(futs, f.submit(callN(i)))
	}
	for _, fut := range futs {
		if _, err := wait(t, fut); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, ch := range errs {
		if err := <-ch; err != nil {
			t.Errorf("worker %d: %v", i, err)
		}
	}
	if err := child.Wait(); err != nil {
		t.Errorf("child worker: %v", err)
	}
	if n := len(f.e.Managers()); n != 0 {
		t.Errorf("%d workers still registered", n)
	}
	if !strings.Contains(f.logs.String(), "worker left") {
		t.Errorf("no worker said bye:\n%s", f.logs)
	}
}

// TestShutdownStopsRunningTasks: Stop cancels what the slots are running.
func TestShutdownStopsRunningTasks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	werr := f.startWorker(t, f.workerConfig("0", 1), echoRunner{})
	running := f.submit(&numCall{args: []byte("block")})
	queued := f.submit(callN(1))
	eventually(t, "the task reaches the worker", func() bool { return f.k.Counts().Running == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.e.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := wait(t, running); err == nil {
		t.Error("the running task succeeded after Stop")
	}
	if _, err := wait(t, queued); err == nil || !strings.Contains(err.Error(), "shut down") {
		t.Errorf("queued task: %v, want a shutdown error", err)
	}
	if err := <-werr; err != nil {
		t.Errorf("worker: %v", err)
	}
}

func TestInterruptFailsQueued(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	fut := f.submit(callN(1)) // no worker: it waits
	f.k.Interrupt(dfk.ErrInterrupted)
	if _, err := wait(t, fut); !errors.Is(err, dfk.ErrInterrupted) {
		t.Errorf("queued task after interrupt: %v", err)
	}
	if _, err := wait(t, f.submit(callN(2))); !errors.Is(err, dfk.ErrInterrupted) {
		t.Errorf("task submitted after interrupt: %v", err)
	}
}

func TestDrainBlock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	drained := f.startWorker(t, f.workerConfig("old", 2), echoRunner{})
	eventually(t, "worker registered", func() bool { return len(f.e.Managers()) == 1 })
	if got := f.e.DrainBlock("old"); got != 1 {
		t.Fatalf("DrainBlock told %d workers, want 1", got)
	}
	if err := <-drained; err != nil {
		t.Fatalf("drained worker: %v", err)
	}
	fut := f.submit(callN(9))
	if n := f.e.Outstanding(); n != 1 {
		t.Errorf("Outstanding = %d with one queued task", n)
	}
	f.startWorker(t, f.workerConfig("new", 1), echoRunner{})
	if v, err := wait(t, fut); err != nil || v != 9 {
		t.Errorf("(%v, %v)", v, err)
	}
}

// TestNoGoroutineLeak runs a whole executor life and checks the
// goroutine count comes back. Not parallel: others' goroutines would
// count.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		cfg := fastConfig(t)
		cfg.Logger = nil
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		k, err := dfk.New(context.Background(), dfk.Config{Executors: []dfk.Executor{e}})
		if err != nil {
			t.Fatal(err)
		}
		f := &fixture{e: e, k: k}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = RunWorker(ctx, f.workerConfig(fmt.Sprint(i), 2), echoRunner{})
			}()
		}
		// A stranger that is refused, and one that never speaks.
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(e.Endpoint().Port))); err == nil {
			defer c.Close()
		}
		for i := range 500 {
			if _, err := wait(t, f.submit(callN(i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := k.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		cancel()
		wg.Wait()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before, %d after\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
