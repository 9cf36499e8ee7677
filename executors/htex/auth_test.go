package htex

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// rawConn speaks the protocol by hand, to play workers that misbehave.
type rawConn struct {
	net.Conn
	fr     frameReader
	mu     sync.Mutex // writes
	silent atomic.Bool
}

// rawHello describes the hello a raw client sends; the proof is computed
// once the connection's TLS binding is known.
type rawHello struct {
	version uint64
	runID   string
	secret  []byte
	slots   int
	block   string
}

func goodHello(f *fixture, slots int) rawHello {
	return rawHello{version: ProtocolVersion, runID: f.e.cfg.RunID, secret: f.e.creds.secret, slots: slots, block: "raw"}
}

// connectRaw opens a connection, with TLS pinned to the interchange's
// certificate when useTLS.
func connectRaw(t testing.TB, f *fixture, useTLS bool) *rawConn {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(f.e.Endpoint().Port))
	var c net.Conn
	var err error
	if useTLS {
		cfg, cerr := clientTLS(f.e.Endpoint().Fingerprint)
		if cerr != nil {
			t.Fatal(cerr)
		}
		c, err = tls.Dial("tcp", addr, cfg)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second)) // only stops a hung test
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, fr: frameReader{r: bufio.NewReader(c), limit: DefaultMaxFrame}}
}

func (c *rawConn) helloFrame(t testing.TB, h rawHello) []byte {
	t.Helper()
	binding, err := channelBinding(c.Conn)
	if err != nil {
		t.Fatal(err)
	}
	return appendFrame(nil, &hello{Version: h.version, RunID: h.runID, Proof: helloProof(h.secret, h.runID, binding),
		Hostname: "raw-host", BlockID: h.block, Slots: h.slots})
}

// dialRaw registers a raw worker, reads its welcome and heartbeats for it
// until the connection closes or silence is set.
func dialRaw(t testing.TB, f *fixture, h rawHello) *rawConn {
	t.Helper()
	c := connectRaw(t, f, !f.e.cfg.Unencrypted)
	c.write(t, c.helloFrame(t, h))
	typ, body, err := c.fr.next()
	if err != nil || typ != msgWelcome {
		t.Fatalf("raw worker: got %v (%v), want welcome", typ, err)
	}
	w, err := decodeWelcome(body)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		hb := appendFrame(nil, control(msgHeartbeat))
		for !c.silent.Load() {
			time.Sleep(w.HeartbeatPeriod)
			c.mu.Lock()
			_, err := c.Write(hb)
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { c.Close(); <-done })
	return c
}

func (c *rawConn) write(t testing.TB, b []byte) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

func (c *rawConn) send(t testing.TB, m message) { t.Helper(); c.write(t, appendFrame(nil, m)) }

// expectTask reads frames until a task, skipping heartbeats.
func (c *rawConn) expectTask(t testing.TB) *Task {
	t.Helper()
	for {
		typ, body, err := c.fr.next()
		if err != nil {
			t.Fatalf("raw worker: %v, want a task", err)
		}
		if typ == msgHeartbeat {
			continue
		}
		if typ != msgTask {
			t.Fatalf("raw worker: got %v, want a task", typ)
		}
		task, err := decodeTask(body)
		if err != nil {
			t.Fatal(err)
		}
		return task
	}
}

// expectRefusal reads a refusal, then the end of the stream: nothing else.
func (c *rawConn) expectRefusal(t testing.TB) string {
	t.Helper()
	typ, body, err := c.fr.next()
	if err != nil || typ != msgRefuse {
		t.Fatalf("got %v (%v), want a refusal", typ, err)
	}
	r, err := decodeRefuse(body)
	if err != nil {
		t.Fatal(err)
	}
	if typ, _, err := c.fr.next(); err == nil {
		t.Fatalf("after the refusal: got %v, want the connection closed", typ)
	}
	return r.Reason
}

// TestRefusals: a connection without the run's secret, run id or
// protocol version gets a refusal naming why and nothing else, and a
// result it posts alongside its hello is never read.
func TestRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	queued := f.submit(callN(1)) // no worker yet: it waits
	wrong := make([]byte, 32)
	tests := []struct {
		name string
		edit func(*rawHello)
		want string
	}{
		{"wrong secret", func(h *rawHello) { h.secret = wrong }, "wrong secret"},
		{"wrong run", func(h *rawHello) { h.runID = "run-0" }, `run "run-0"`},
		{"wrong protocol version", func(h *rawHello) { h.version = ProtocolVersion + 1 }, "protocol version " + strconv.Itoa(ProtocolVersion+1)},
		{"no slots", func(h *rawHello) { h.slots = 0 }, "slots"},
	}
	for _, tt := range tests {
		c := connectRaw(t, f, true)
		h := goodHello(f, 1)
		tt.edit(&h)
		forged := appendFrame(nil, &Result{ID: queued.ID(), Try: 0, Value: []byte("forged")})
		c.write(t, append(c.helloFrame(t, h), forged...))
		if reason := c.expectRefusal(t); !strings.Contains(reason, tt.want) {
			t.Errorf("%s: refused because %q, want %q", tt.name, reason, tt.want)
		}
	}

	// Frames before a hello are not read either.
	c := connectRaw(t, f, true)
	c.send(t, &Result{ID: queued.ID(), Value: []byte("forged")})
	if reason := c.expectRefusal(t); !strings.Contains(reason, "expected hello") {
		t.Errorf("result before hello: refused because %q", reason)
	}

	if queued.Done() || len(f.e.Managers()) != 0 {
		t.Fatalf("a refused connection changed something: task done %v, %d workers", queued.Done(), len(f.e.Managers()))
	}
	f.startWorker(t, f.workerConfig("0", 1), echoRunner{})
	if v, err := wait(t, queued); err != nil || v != 1 {
		t.Errorf("queued task = (%v, %v), want the real worker's 1", v, err)
	}
	if n := strings.Count(f.logs.String(), "refused connection"); n != len(tests)+1 {
		t.Errorf("%d refusals logged, want %d:\n%s", n, len(tests)+1, f.logs)
	}
}

// TestPlainClientGetsNothing: without TLS the client cannot even be told
// why; the interchange answers with at most a TLS alert.
func TestPlainClientGetsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	queued := f.submit(callN(1))
	c := connectRaw(t, f, false)
	h := goodHello(f, 1)
	c.write(t, append(c.helloFrame(t, h), appendFrame(nil, &Result{ID: queued.ID(), Value: []byte("forged")})...))
	got, _ := io.ReadAll(c.Conn)
	if len(got) > 0 && got[0] != 0x15 { // 0x15: a TLS alert record
		t.Errorf("plain client received % x", got)
	}
	eventually(t, "the handshake failure is logged", func() bool {
		return strings.Contains(f.logs.String(), "TLS handshake failed")
	})
	if queued.Done() || len(f.e.Managers()) != 0 {
		t.Errorf("a plain client changed something")
	}
}

func TestWorkerChecksTheInterchange(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)
	other, err := newCredentials(true)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(*WorkerConfig){
		"fingerprint": func(c *WorkerConfig) { c.Fingerprint = other.fingerprint },
		// A plain worker meets a TLS interchange: nothing it can read.
		"welcome": func(c *WorkerConfig) { c.Unencrypted = true },
	}
	for want, edit := range cases {
		cfg := f.workerConfig("0", 1)
		edit(&cfg)
		err := RunWorker(context.Background(), cfg, echoRunner{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("worker: %v, want an error about the %s", err, want)
		}
	}
	cfg := f.workerConfig("0", 1)
	cfg.Secret = other.fingerprint // well-formed hex, wrong value
	var refused *RefusedError
	if err := RunWorker(context.Background(), cfg, echoRunner{}); !errors.As(err, &refused) || refused.Reason != "wrong secret" {
		t.Errorf("worker with a wrong secret: %v", err)
	}
	if n := len(f.e.Managers()); n != 0 {
		t.Errorf("%d workers registered", n)
	}
}

// TestBadFrames: garbage and oversized frames, before and after the
// handshake, are dropped with a log line; the interchange serves on.
func TestBadFrames(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fastConfig(t), 0)

	c := connectRaw(t, f, true)
	c.write(t, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if reason := c.expectRefusal(t); !strings.Contains(reason, "exceeds the limit") {
		t.Errorf("HTTP request: refused because %q", reason)
	}

	c = connectRaw(t, f, true)
	c.write(t, []byte{byte(msgHello), 0x40, 0, 0, 0}) // a 1 GiB hello
	if reason := c.expectRefusal(t); !strings.Contains(reason, "exceeds the limit") {
		t.Errorf("huge hello: refused because %q", reason)
	}

	c = connectRaw(t, f, true)
	c.write(t, append([]byte{byte(msgHello), 0, 0, 0, 3}, 0xff, 0xff, 0xff)) // a bad varint
	if reason := c.expectRefusal(t); !strings.Contains(reason, "malformed hello") {
		t.Errorf("malformed hello: refused because %q", reason)
	}

	// Authenticated workers that break the protocol lose their tasks.
	bad := [][]byte{
		{byte(msgResult), 0x7f, 0xff, 0xff, 0xff},                           // above the frame limit
		append([]byte{byte(msgResult), 0, 0, 0, 4}, 0, 0, 9, 9),             // unknown status
		append([]byte{byte(msgTask), 0, 0, 0, 1}, 0),                        // a worker may not send tasks
		binary.BigEndian.AppendUint32([]byte{byte(msgResult)}, 1<<20+1)[:5], // truncated body
	}
	for i, frame := range bad {
		c := dialRaw(t, f, goodHello(f, 1))
		fut := f.submit(callN(i))
		c.expectTask(t)
		c.write(t, frame)
		if i == len(bad)-1 {
			c.Close()
		}
		_, err := wait(t, fut)
		if asManagerLost(err) == nil {
			t.Errorf("bad frame %d: task error %v, want ManagerLost", i, err)
		}
	}
	if n := strings.Count(f.logs.String(), "bad frame from worker"); n != len(bad)-1 {
		t.Errorf("%d bad frames logged, want %d:\n%s", n, len(bad)-1, f.logs)
	}

	f.startWorker(t, f.workerConfig("0", 1), echoRunner{})
	if v, err := wait(t, f.submit(callN(42))); err != nil || v != 42 {
		t.Errorf("after bad frames: (%v, %v)", v, err)
	}
}

// TestPrefetch: a worker holds its slots plus prefetch_capacity tasks,
// and no more, before it answers any.
func TestPrefetch(t *testing.T) {
	t.Parallel()
	cfg := fastConfig(t)
	cfg.PrefetchCapacity = 2
	f := newFixture(t, cfg, 0)
	var futs []*dfk.Future
	for i := range 5 {
		futs = append(futs, f.submit(callN(i)))
	}
	c := dialRaw(t, f, goodHello(f, 1))
	var got []*Task
	for range 3 {
		got = append(got, c.expectTask(t))
	}
	if n := f.e.Outstanding(); n != 5 {
		t.Errorf("Outstanding = %d, want 5", n)
	}
	if ms := f.e.Managers(); len(ms) != 1 || ms[0].InFlight != 3 {
		t.Errorf("Managers() = %+v, want one worker holding 3", ms)
	}
	c.send(t, &Result{ID: got[0].ID, Try: got[0].Try, Value: binary.AppendUvarint(nil, 0)})
	fourth := c.expectTask(t)
	if fourth.ID != futs[3].ID() {
		t.Errorf("after one result the worker got task %d, want %d", fourth.ID, futs[3].ID())
	}
	if v, err := wait(t, futs[0]); err != nil || v != 0 {
		t.Errorf("(%v, %v)", v, err)
	}
}
