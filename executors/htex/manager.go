package htex

import (
	"bufio"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/starflow-hpc/starflow/dfk"
)

// The interchange's side of one worker connection. A manager (Parsl's
// name for a worker process) has two goroutines: the reader, which owns
// the connection's end — when it returns, it waits for the writer and
// fails whatever the worker still held — and the writer, which takes jobs
// from the executor's queue while the worker has free capacity.

const (
	// bufSize is one TLS record: a flush is one record and one syscall,
	// and a thousand connections stay cheap.
	bufSize = 16 << 10
	// maxHandshakes bounds connections that have not proved themselves yet.
	maxHandshakes = 256
	// maxSlots is a sanity bound on what a worker may claim.
	maxSlots = 1 << 16
)

type manager struct {
	e          *Executor
	id         uint64
	hello      *hello
	where      dfk.Where // what monitoring records for the tries it runs
	capacity   int
	maxFrame   int
	registered time.Time

	conn net.Conn
	fr   frameReader
	bw   *bufio.Writer

	// Owned by the writer.
	frames              []byte
	batch, ready        []*dfk.Job
	bundles             map[string]struct{} // hashes this worker has been sent
	stopSent, drainSent bool

	busy                                        atomic.Int32 // jobs sent and not answered
	wake                                        chan struct{}
	heartbeatDue, stopRequested, drainRequested atomic.Bool
	quit                                        chan struct{} // closed by the reader when it is done
	writerDone                                  chan struct{}
	done                                        chan struct{} // closed once the manager is gone

	mu       sync.Mutex
	inflight map[int]*dfk.Job // by job id

	// Guarded by e.mu.
	idle, draining bool
}

// deadlineConn gives every read and write on the connection its own
// deadline, so a peer silent for the threshold is noticed without a timer
// per frame: bufio calls Read and Write once per batch of frames. A zero
// timeout leaves the connection's fixed deadline alone, as during the
// handshake, when a peer trickling bytes must not keep extending it.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.timeout))
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if c.timeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	}
	return c.Conn.Write(p)
}

func (e *Executor) acceptLoop() {
	defer e.wg.Done()
	sem := make(chan struct{}, maxHandshakes)
	for {
		c, err := e.ln.Accept()
		if err != nil {
			if e.stop.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: back off, do not spin.
			e.log.Error("accept failed", "error", err)
			select {
			case <-time.After(100 * time.Millisecond):
			case <-e.stop.Done():
				return
			}
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-e.stop.Done():
			_ = c.Close()
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer func() { <-sem }()
			e.admit(c)
		}()
	}
}

// admit authenticates a connection and, if it passes, registers its worker.
func (e *Executor) admit(raw net.Conn) {
	remote := raw.RemoteAddr().String()
	// Shutdown closes a connection still proving itself; unhook reports
	// whether that has not happened yet.
	unhook := context.AfterFunc(e.stop, func() { _ = raw.Close() })
	_ = raw.SetDeadline(time.Now().Add(e.cfg.HandshakeTimeout))
	var conn net.Conn = raw
	if e.tls != nil {
		tc := tls.Server(raw, e.tls)
		if err := tc.Handshake(); err != nil {
			unhook()
			_ = raw.Close()
			e.log.Warn("dropped connection: TLS handshake failed", "remote", remote, "error", err)
			return
		}
		conn = tc
	}
	rc := &deadlineConn{Conn: conn}
	fr := frameReader{r: bufio.NewReaderSize(rc, bufSize), limit: helloMaxFrame}
	h, reason := e.readHello(conn, &fr)
	if !unhook() {
		return // Shutdown closed the connection
	}
	if reason != "" {
		e.refuse(conn, remote, reason)
		return
	}
	m := &manager{
		e: e, hello: h, capacity: h.Slots + e.cfg.PrefetchCapacity, maxFrame: e.cfg.MaxFrame,
		registered: time.Now(), conn: conn, fr: fr,
		where:   dfk.Where{Block: h.BlockID, Host: h.Hostname},
		bw:      bufio.NewWriterSize(&deadlineConn{Conn: conn, timeout: e.cfg.HeartbeatThreshold}, bufSize),
		bundles: make(map[string]struct{}), wake: make(chan struct{}, 1),
		quit: make(chan struct{}), writerDone: make(chan struct{}), done: make(chan struct{}),
		inflight: make(map[int]*dfk.Job, h.Slots+e.cfg.PrefetchCapacity),
	}
	m.fr.limit = e.cfg.MaxFrame
	e.mu.Lock()
	if e.stopping {
		e.mu.Unlock()
		e.refuse(conn, remote, "the interchange is shutting down")
		return
	}
	e.lastID++
	m.id = e.lastID
	m.where.Worker = strconv.FormatUint(m.id, 10)
	e.managers[m.id] = m
	t := e.blocks[h.BlockID]
	if t == nil {
		t = &blockTally{}
		e.blocks[h.BlockID] = t
	}
	t.registered++
	t.connected++
	e.mu.Unlock()

	w := &welcome{ManagerID: m.id, Capacity: m.capacity, HeartbeatPeriod: e.cfg.HeartbeatPeriod,
		HeartbeatThreshold: e.cfg.HeartbeatThreshold, MaxFrame: e.cfg.MaxFrame, ResourceInterval: e.cfg.ResourceInterval}
	if _, err := m.bw.Write(appendFrame(nil, w)); err == nil {
		_ = m.bw.Flush()
	}
	_ = raw.SetDeadline(time.Time{})
	rc.timeout = e.cfg.HeartbeatThreshold // the reader has not started yet
	e.log.Info("worker registered", "manager", m.id, "host", h.Hostname, "block", h.BlockID,
		"slots", h.Slots, "accelerators", len(h.Accelerators), "remote", remote)
	m.report(true)
	m.signal() // a first round takes whatever is queued
	e.wg.Add(2)
	go m.writeLoop()
	go m.readLoop()
}

// readHello reads and checks a worker's hello; a non-empty reason refuses it.
func (e *Executor) readHello(conn net.Conn, fr *frameReader) (*hello, string) {
	t, body, err := fr.next()
	if err != nil {
		return nil, "no hello: " + err.Error()
	}
	if t != msgHello {
		return nil, fmt.Sprintf("expected hello, got %v", t)
	}
	v, ok := helloVersion(body)
	if !ok {
		return nil, "malformed hello: no protocol version"
	}
	if v != ProtocolVersion {
		return nil, fmt.Sprintf("protocol version %d, but the interchange speaks %d: the worker and the interchange come from different starflow releases", v, ProtocolVersion)
	}
	h, err := decodeHello(body)
	if err != nil {
		return nil, err.Error()
	}
	if h.RunID != e.cfg.RunID {
		return nil, fmt.Sprintf("the worker belongs to run %q, not this interchange's run", h.RunID)
	}
	binding, err := channelBinding(conn)
	if err != nil {
		return nil, "no TLS channel binding: " + err.Error()
	}
	if subtle.ConstantTimeCompare(h.Proof, helloProof(e.creds.secret, h.RunID, binding)) != 1 {
		return nil, "wrong secret"
	}
	if h.Slots < 1 || h.Slots > maxSlots {
		return nil, fmt.Sprintf("slots must be between 1 and %d, got %d", maxSlots, h.Slots)
	}
	return h, ""
}

// refuse tells the peer why and hangs up; nothing it sent is looked at.
func (e *Executor) refuse(conn net.Conn, remote, reason string) {
	e.log.Warn("refused connection", "remote", remote, "reason", reason)
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write(appendFrame(nil, &refuse{Reason: reason})); err == nil {
		// Half-close, then discard what the peer had already sent: closing
		// with unread data would reset the connection, and a reset can
		// destroy the refusal before the peer reads it.
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(conn, helloMaxFrame))
	}
	_ = conn.Close()
}

// signal wakes the writer; a wake already pending covers this one.
func (m *manager) signal() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

func (m *manager) readLoop() {
	defer m.e.wg.Done()
	m.close(m.read())
}

func (m *manager) read() error {
	freed := false
	for {
		if freed && !m.fr.ready() {
			// Wake the writer once per batch of results, when no whole
			// frame is left to read: the slots they freed share a flush.
			m.signal()
			freed = false
		}
		t, body, err := m.fr.next()
		if err != nil {
			return err
		}
		switch t {
		case msgResult:
			res, err := decodeResult(body)
			if err != nil {
				return err
			}
			m.complete(res)
			freed = true
		case msgResource:
			res, err := decodeResources(body)
			if err != nil {
				return err
			}
			if f := m.e.cfg.OnResources; f != nil && len(res.Samples) > 0 {
				f(m.where, res.Samples)
			}
		case msgHeartbeat:
		case msgBye:
			return errBye
		default:
			return fmt.Errorf("%w frame: unexpected %v from a worker", errMalformed, t)
		}
	}
}

// complete finishes the job a result answers.
func (m *manager) complete(res *Result) {
	m.mu.Lock()
	j := m.inflight[res.ID]
	if j != nil && j.Try == res.Try {
		delete(m.inflight, res.ID)
	} else {
		j = nil
	}
	m.mu.Unlock()
	if j == nil {
		m.e.log.Warn("dropped a result for a task the worker does not hold", "manager", m.id, "task_id", res.ID, "try", res.Try)
		return
	}
	m.busy.Add(-1)
	if res.Err != nil && res.Err.Kind == KindWorkerStopped && m.e.runCtx.Err() == nil {
		// The worker's own process was told to stop (its block was
		// cancelled, hit its walltime or lost its node) and gave the task
		// up: lost with the worker, not failed by the app.
		j.Finish(nil, &ManagerLost{ManagerID: m.id, Hostname: m.hello.Hostname, BlockID: m.hello.BlockID,
			Reason: "the worker was stopped while it ran the task: " + res.Err.Message})
		return
	}
	v, err := j.Payload.(Call).Decode(res)
	if err != nil {
		if cause := context.Cause(m.e.runCtx); cause != nil {
			// The run was interrupted and the worker stopped the task:
			// it was cancelled, not failed.
			err = cause
		}
	}
	j.Finish(v, err)
}

// close ends the manager after its reader stopped for reason: the jobs it
// held fail, with ManagerLost unless the executor is shutting down.
func (m *manager) close(reason error) {
	e := m.e
	_ = m.conn.Close()
	close(m.quit)
	<-m.writerDone
	m.mu.Lock()
	lost := m.inflight
	m.inflight = nil
	m.mu.Unlock()
	e.mu.Lock()
	delete(e.managers, m.id)
	e.dropIdle(m)
	if t := e.blocks[m.hello.BlockID]; t != nil {
		t.connected--
		if errors.Is(reason, errBye) && len(lost) == 0 {
			t.byes++
		}
	}
	closed := e.closed
	next := e.rewake()
	e.mu.Unlock()
	if next != nil {
		next.signal()
	}

	why := m.describe(reason)
	log := e.log.With("manager", m.id, "host", m.hello.Hostname, "block", m.hello.BlockID, "tasks_lost", len(lost))
	switch {
	case errors.Is(reason, errBye) && len(lost) == 0:
		log.Info("worker left")
	case isFrameError(reason):
		log.Warn("dropped connection: bad frame from worker", "error", why)
	default:
		log.Warn("worker lost", "reason", why)
	}
	var err error = &ManagerLost{ManagerID: m.id, Hostname: m.hello.Hostname, BlockID: m.hello.BlockID, Reason: why}
	if closed != nil && e.stop.Err() != nil {
		err = closed
	}
	for _, j := range lost {
		j.Finish(nil, err)
	}
	m.report(false)
	close(m.done)
}

// report tells OnWorker that the worker registered (active) or went.
func (m *manager) report(active bool) {
	if f := m.e.cfg.OnWorker; f != nil {
		f(WorkerEvent{Where: m.where, Cores: m.hello.Cores, Memory: m.hello.Memory, Slots: m.hello.Slots,
			Active: active, At: time.Now()})
	}
}

func (m *manager) describe(reason error) string {
	switch {
	case errors.Is(reason, os.ErrDeadlineExceeded):
		return fmt.Sprintf("no heartbeat for %v (heartbeat_threshold)", m.e.cfg.HeartbeatThreshold)
	case errors.Is(reason, io.EOF), errors.Is(reason, net.ErrClosed):
		return "connection closed"
	case errors.Is(reason, errBye):
		return "the worker left with tasks unanswered"
	}
	return reason.Error()
}

// isFrameError says the peer broke the protocol rather than went away.
func isFrameError(err error) bool {
	var big *FrameTooLargeError
	return errors.As(err, &big) || errors.Is(err, errMalformed)
}

func (m *manager) writeLoop() {
	defer m.e.wg.Done()
	defer close(m.writerDone)
	for {
		select {
		case <-m.wake:
		case <-m.quit:
			return
		}
		if err := m.writeRound(); err != nil {
			// The reader notices the closed connection and cleans up.
			_ = m.conn.Close()
			<-m.quit
			return
		}
	}
}

// writeRound sends what is due and flushes once nothing more is waiting:
// results that arrive while it writes free slots whose tasks then share
// the same flush, so a busy worker gets many frames per syscall.
func (m *manager) writeRound() error {
	for {
		n := m.bw.Buffered()
		if m.stopRequested.Load() && !m.stopSent {
			m.stopSent = true
			_, _ = m.bw.Write(appendFrame(m.frames[:0], control(msgStop)))
		}
		if m.drainRequested.Load() && !m.drainSent {
			m.drainSent = true
			_, _ = m.bw.Write(appendFrame(m.frames[:0], control(msgDrain)))
		}
		if m.heartbeatDue.Swap(false) {
			_, _ = m.bw.Write(appendFrame(m.frames[:0], control(msgHeartbeat)))
		}
		if err := m.sendBatch(); err != nil {
			return err
		}
		if m.bw.Buffered() != n {
			select {
			case <-m.wake:
				continue
			default:
			}
		}
		return m.bw.Flush()
	}
}

// sendBatch takes as many queued jobs as the worker has room for and
// writes them. Each job is in inflight before its frame can reach the
// worker, so no result can beat it there.
func (m *manager) sendBatch() error {
	free := m.capacity - int(m.busy.Load())
	if free <= 0 {
		return nil
	}
	e := m.e
	e.mu.Lock()
	if m.draining || e.closed != nil {
		e.mu.Unlock()
		return nil
	}
	m.batch = e.take(m.batch[:0], free)
	if len(m.batch) < free && !m.idle {
		m.idle = true
		e.idle = append(e.idle, m)
	}
	e.mu.Unlock()
	if len(m.batch) == 0 {
		return nil
	}
	m.busy.Add(int32(len(m.batch)))
	frames := m.frames[:0]
	for _, j := range m.batch {
		j.StartedOn(m.where)
		var err error
		if frames, err = m.appendJob(frames, j); err != nil {
			m.busy.Add(-1)
			m.signal() // the slot is free again
			j.Finish(nil, err)
			continue
		}
		m.ready = append(m.ready, j)
	}
	clear(m.batch)
	m.mu.Lock()
	for _, j := range m.ready {
		m.inflight[j.ID] = j
	}
	m.mu.Unlock()
	clear(m.ready)
	m.ready = m.ready[:0]
	_, err := m.bw.Write(frames)
	if cap(frames) > 1<<20 {
		frames = nil // a bundle went out; do not keep its size around
	}
	m.frames = frames[:0]
	return err
}

// appendJob encodes one job as a task frame, with its bundle if this
// worker has not had it.
func (m *manager) appendJob(frames []byte, j *dfk.Job) ([]byte, error) {
	t, err := j.Payload.(Call).Encode()
	if err != nil {
		return frames, fmt.Errorf("cannot send the task to a worker: %w", err)
	}
	if t == nil {
		return frames, errors.New("cannot send the task to a worker: its call encoded to nothing")
	}
	_, had := m.bundles[t.BundleHash]
	withBundle := t.BundleHash != "" && !had
	start := len(frames)
	frames = append(frames, byte(msgTask), 0, 0, 0, 0)
	frames = appendTask(frames, t, j.ID, j.Try, withBundle)
	size := len(frames) - start - headerSize
	if size > m.maxFrame {
		return frames[:start], fmt.Errorf("cannot send the task to a worker: it encodes to %d bytes, above the frame limit of %d", size, m.maxFrame)
	}
	putLen(frames[start:], size)
	if withBundle {
		m.bundles[t.BundleHash] = struct{}{}
	}
	return frames, nil
}
