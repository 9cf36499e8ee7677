package htex

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConnectionDropped: a worker whose connection drops fails the task
// it held with ManagerLost naming it; a task it never got stays queued.
func TestConnectionDropped(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	first, second := f.submit(callN(1)), f.submit(callN(2))
	c := dialRaw(t, f, goodHello(f, 1))
	if task := c.expectTask(t); task.ID != first.ID() {
		t.Fatalf("got task %d, want %d", task.ID, first.ID())
	}
	c.Close()
	_, err := wait(t, first)
	ml := asManagerLost(err)
	if ml == nil || ml.Hostname != "raw-host" || ml.BlockID != "raw" {
		t.Fatalf("held task: %v, want ManagerLost for raw-host, block raw", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "raw-host") || !strings.Contains(msg, "block raw") {
		t.Errorf("message %q does not name the host and block", msg)
	}
	if second.Done() {
		t.Fatalf("the task never sent finished: %v", second)
	}
	f.startWorker(t, f.workerConfig("1", 1), echoRunner{})
	if v, err := wait(t, second); err != nil || v != 2 {
		t.Errorf("queued task: (%v, %v)", v, err)
	}
}

// TestSilentWorker: a worker that keeps its connection but stops talking
// is lost once heartbeat_threshold passes.
func TestSilentWorker(t *testing.T) {
	t.Parallel()
	f := newFixture(t, lossConfig(t), 0)
	fut := f.submit(callN(1))
	c := dialRaw(t, f, goodHello(f, 1))
	c.expectTask(t)
	c.silent.Store(true) // say nothing from here on
	_, err := wait(t, fut)
	if ml := asManagerLost(err); ml == nil || !strings.Contains(ml.Reason, "no heartbeat") {
		t.Errorf("task of a silent worker: %v, want ManagerLost for lack of heartbeats", err)
	}
}

// TestLostTaskRetried: the kernel's retries see ManagerLost and run the
// task again elsewhere.
func TestLostTaskRetried(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 1)
	fut := f.submit(callN(5))
	c := dialRaw(t, f, goodHello(f, 1))
	c.expectTask(t)
	c.Close()
	f.startWorker(t, f.workerConfig("1", 1), echoRunner{})
	if v, err := wait(t, fut); err != nil || v != 5 {
		t.Errorf("retried task: (%v, %v)", v, err)
	}
}

// TestKilledWorkerProcess: a real worker process SIGKILLed mid-task.
func TestKilledWorkerProcess(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, lossConfig(t), 0)
			child := f.startChild(t, f.workerConfig("k", 1), 1)
			fut := f.submit(&numCall{args: []byte("block")})
			eventually(t, "the task reaches the worker", func() bool {
				ms := f.e.Managers()
				return len(ms) == 1 && ms[0].InFlight == 1
			})
			if err := child.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			_, err := wait(t, fut)
			ml := asManagerLost(err)
			if ml == nil || ml.Hostname != "node-k" || ml.BlockID != "k" {
				t.Fatalf("task of a %v worker: %v, want ManagerLost for node-k", sig, err)
			}
			// A killed process closes its socket; a stopped one just
			// stops heartbeating.
			if sig == syscall.SIGSTOP && !strings.Contains(ml.Reason, "no heartbeat") {
				t.Errorf("stopped worker lost because %q, want no heartbeat", ml.Reason)
			}
		})
	}
}

// fakeInterchange accepts one worker, welcomes it and hands the
// connection to play.
func fakeInterchange(t *testing.T, play func(c net.Conn, fr *frameReader)) WorkerConfig {
	t.Helper()
	creds, err := newCredentials(true)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", creds.serverTLS())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		fr := &frameReader{r: bufio.NewReader(c), limit: DefaultMaxFrame}
		if _, _, err := fr.next(); err != nil {
			return
		}
		w := &welcome{ManagerID: 1, Capacity: 1, HeartbeatPeriod: 20 * time.Millisecond,
			HeartbeatThreshold: 200 * time.Millisecond, MaxFrame: DefaultMaxFrame}
		if _, err := c.Write(appendFrame(nil, w)); err != nil {
			return
		}
		play(c, fr)
	}()
	return WorkerConfig{Addrs: []string{ln.Addr().String()}, RunID: "r", Secret: strings.Repeat("ab", 32),
		Fingerprint: creds.fingerprint, Slots: 1, BlockID: "0"}
}

// TestWorkerExitsWhenInterchangeGone: no reconnecting; a worker whose
// interchange hangs up or falls silent returns an error.
func TestWorkerExitsWhenInterchangeGone(t *testing.T) {
	t.Parallel()
	hangUp := func(c net.Conn, fr *frameReader) {}
	silent := func(c net.Conn, fr *frameReader) {
		for { // read the worker's heartbeats, never answer
			if _, _, err := fr.next(); err != nil {
				return
			}
		}
	}
	for name, play := range map[string]func(net.Conn, *frameReader){"hang up": hangUp, "silent": silent} {
		cfg := fakeInterchange(t, play)
		if err := RunWorker(context.Background(), cfg, echoRunner{}); !errors.Is(err, errLost) {
			t.Errorf("%s: worker returned %v, want interchange lost", name, err)
		}
	}
}

// TestWorkerStopsOnContext: cancelling a worker's context cancels its
// tasks and it says bye.
func TestWorkerStopsOnContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	ctx, cancel := context.WithCancelCause(context.Background())
	stopped := errors.New("SIGTERM")
	done := make(chan error, 1)
	running := make(chan struct{})
	r := runnerFunc(func(ctx context.Context, task *Task, env SlotEnv) *Result {
		close(running)
		return echoRunner{}.Run(ctx, task, env)
	})
	go func() { done <- RunWorker(ctx, f.workerConfig("0", 1), r) }()
	fut := f.submit(&numCall{args: []byte("block")})
	<-running
	cancel(stopped)
	if err := <-done; !errors.Is(err, stopped) {
		t.Errorf("worker returned %v, want its context's cause", err)
	}
	var re *RemoteError
	if _, err := wait(t, fut); !errors.As(err, &re) || re.Kind != "Cancelled" {
		t.Errorf("task: %v, want the runner's cancellation", err)
	}
	eventually(t, "the worker says bye", func() bool { return strings.Contains(f.logs.String(), "worker left") })
}
