// Package htex is starflow's HighThroughputExecutor transport: an
// interchange inside the starflow process that hands tasks to worker
// processes over one TCP port, and the loop those workers run. Tasks,
// arguments and results are opaque bytes here; what they mean (Starlark
// functions, bash commands) is the business of the Call and Runner that
// the caller plugs in.
package htex

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// ProtocolVersion is the first field of every Hello. The interchange
// refuses any other, so a worker from another starflow release fails with
// a clear message instead of misreading frames. Bump it whenever the
// encoding of any message changes.
//
//	1: the first protocol.
//	2: hello carries the node's cores and memory, welcome the resource
//	   monitoring interval; workers send resource frames.
const ProtocolVersion = 2

// DefaultMaxFrame bounds a frame once a worker is authenticated. Bundles
// (the code a task needs, sent once per worker) are the largest frames.
const DefaultMaxFrame = 64 << 20

// helloMaxFrame bounds frames from a peer that has not proved it belongs
// to the run, so a stranger cannot make the interchange allocate much.
const helloMaxFrame = 64 << 10

// A frame is a 5-byte header, the message type and the body's length
// (big endian), followed by the body.
const headerSize = 5

type msgType byte

const (
	msgHello msgType = iota + 1
	msgWelcome
	msgRefuse
	msgTask
	msgResult
	msgHeartbeat
	msgDrain
	msgStop
	msgBye
	msgResource
)

func (t msgType) String() string {
	names := [...]string{"", "hello", "welcome", "refuse", "task", "result", "heartbeat", "drain", "stop", "bye", "resource"}
	if int(t) < len(names) && t != 0 {
		return names[t]
	}
	return fmt.Sprintf("unknown message type %d", byte(t))
}

// Kind says how a worker runs a task.
type Kind uint8

const (
	KindPython Kind = iota
	KindBash
)

func (k Kind) String() string {
	switch k {
	case KindPython:
		return "python"
	case KindBash:
		return "bash"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Task is one try of a task as it travels to a worker.
type Task struct {
	// ID and Try identify the try. The executor writes the job's own
	// values on the wire, so a Call may return the same Task every time.
	ID, Try int
	Kind    Kind
	App     string
	// BundleHash names the code the task needs. Call.Encode always
	// returns the Bundle bytes; the interchange sends them only to workers
	// that have not had that hash yet, and the worker fills Bundle from
	// its cache before its Runner sees the task.
	BundleHash   string
	Bundle       []byte
	Func         string
	Args, Kwargs []byte
	Walltime     time.Duration
	Env          []string // KEY=VALUE, added to the slot's environment
	Stdout       string
	Stderr       string
}

// Result is a try's outcome as it travels back.
type Result struct {
	ID, Try int
	Value   []byte
	Err     *RemoteError // nil on success
}

// RemoteError is an error raised by the task on the worker.
type RemoteError struct {
	Kind      string // the error's type, e.g. "ValueError" or "BashExitFailure"
	Message   string
	Traceback string
}

func (e *RemoteError) Error() string {
	if e.Kind == "" {
		return e.Message
	}
	return e.Kind + ": " + e.Message
}

// hello is a worker's first frame: who it is and its proof that it
// belongs to the run.
type hello struct {
	Version      uint64
	RunID        string
	Proof        []byte
	Hostname     string
	BlockID      string
	Slots        int
	Accelerators []string
	// Cores and Memory (bytes) describe the worker's node, for the
	// monitoring database's node rows; 0 when unknown.
	Cores  int
	Memory uint64
}

// welcome accepts a worker and tells it the run's timing and limits.
type welcome struct {
	ManagerID          uint64
	Capacity           int // slots plus prefetch: tasks the worker may hold
	HeartbeatPeriod    time.Duration
	HeartbeatThreshold time.Duration
	MaxFrame           int
	// ResourceInterval, when positive, asks the worker to sample the
	// processes of the tries it runs that often and send resource frames.
	ResourceInterval time.Duration
}

// refuse says why a connection is turned away; nothing follows it.
type refuse struct{ Reason string }

// control is a message without a body: heartbeat, drain, stop, bye.
type control msgType

type message interface {
	kind() msgType
	appendBody(b []byte) []byte
}

func (*hello) kind() msgType   { return msgHello }
func (*welcome) kind() msgType { return msgWelcome }
func (*refuse) kind() msgType  { return msgRefuse }
func (*Task) kind() msgType    { return msgTask }
func (*Result) kind() msgType  { return msgResult }
func (c control) kind() msgType {
	return msgType(c)
}

func (h *hello) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, h.Version)
	b = appendString(b, h.RunID)
	b = appendBytes(b, h.Proof)
	b = appendString(b, h.Hostname)
	b = appendString(b, h.BlockID)
	b = appendInt(b, h.Slots)
	b = appendStrings(b, h.Accelerators)
	b = appendInt(b, h.Cores)
	return binary.AppendUvarint(b, h.Memory)
}

func (w *welcome) appendBody(b []byte) []byte {
	b = binary.AppendUvarint(b, w.ManagerID)
	b = appendInt(b, w.Capacity)
	b = binary.AppendVarint(b, int64(w.HeartbeatPeriod))
	b = binary.AppendVarint(b, int64(w.HeartbeatThreshold))
	b = appendInt(b, w.MaxFrame)
	return binary.AppendVarint(b, int64(w.ResourceInterval))
}

func (r *refuse) appendBody(b []byte) []byte { return appendString(b, r.Reason) }

func (t *Task) appendBody(b []byte) []byte { return appendTask(b, t, t.ID, t.Try, true) }

// appendTask encodes t as try (id, try), with its bundle bytes or not.
func appendTask(b []byte, t *Task, id, try int, withBundle bool) []byte {
	b = appendInt(b, id)
	b = appendInt(b, try)
	b = append(b, byte(t.Kind))
	b = appendString(b, t.App)
	b = appendString(b, t.BundleHash)
	if withBundle {
		b = appendBytes(b, t.Bundle)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, t.Func)
	b = appendBytes(b, t.Args)
	b = appendBytes(b, t.Kwargs)
	b = binary.AppendVarint(b, int64(t.Walltime))
	b = appendStrings(b, t.Env)
	b = appendString(b, t.Stdout)
	return appendString(b, t.Stderr)
}

func (r *Result) appendBody(b []byte) []byte { return appendResult(b, r, r.ID, r.Try) }

func appendResult(b []byte, r *Result, id, try int) []byte {
	b = appendInt(b, id)
	b = appendInt(b, try)
	if r.Err == nil {
		b = append(b, 0)
		return appendBytes(b, r.Value)
	}
	b = append(b, 1)
	b = appendString(b, r.Err.Kind)
	b = appendString(b, r.Err.Message)
	return appendString(b, r.Err.Traceback)
}

func (control) appendBody(b []byte) []byte { return b }

func appendInt(b []byte, v int) []byte { return binary.AppendUvarint(b, uint64(v)) }

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// appendFrame appends m as one frame.
func appendFrame(b []byte, m message) []byte {
	start := len(b)
	b = append(b, byte(m.kind()), 0, 0, 0, 0)
	b = m.appendBody(b)
	putLen(b[start:], len(b)-start-headerSize)
	return b
}

// putLen writes a body's length into the header at the start of frame.
func putLen(frame []byte, n int) { binary.BigEndian.PutUint32(frame[1:], uint32(n)) }

// decoder reads a body field by field. The first error sticks and every
// later read returns a zero value, so decoding functions read straight
// through and check once at the end.
type decoder struct {
	b   []byte
	msg msgType
	err error
}

func (d *decoder) fail(field, why string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w %v: %s: %s", errMalformed, d.msg, field, why)
	}
	d.b = nil
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(field, "bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(field, "bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int(field string) int {
	v := d.uvarint(field)
	if v > math.MaxInt {
		d.fail(field, "out of range")
		return 0
	}
	return int(v)
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail(field, "truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// raw returns the next length-prefixed field, aliasing the body.
func (d *decoder) raw(field string) []byte {
	n := d.uvarint(field)
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(field, "length beyond the frame")
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) float64(field string) float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail(field, "truncated")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

func (d *decoder) string(field string) string { return string(d.raw(field)) }

// bytes copies: frame bodies live in buffers that the next frame reuses.
func (d *decoder) bytes(field string) []byte {
	p := d.raw(field)
	if len(p) == 0 {
		return nil
	}
	return bytes.Clone(p)
}

func (d *decoder) strings(field string) []string {
	n := d.uvarint(field)
	// Each string takes at least one byte, so a count beyond what is left
	// is a lie; checking first keeps the allocation within the frame size.
	if n > uint64(len(d.b)) {
		d.fail(field, "count beyond the frame")
		return nil
	}
	if n == 0 || d.err != nil {
		return nil
	}
	ss := make([]string, n)
	for i := range ss {
		ss[i] = d.string(field)
	}
	return ss
}

func (d *decoder) done() error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%w %v: %d trailing bytes", errMalformed, d.msg, len(d.b))
	}
	return d.err
}

// helloVersion reads only the version, which every protocol version puts
// first, so a hello from another release is refused for the right reason.
func helloVersion(body []byte) (uint64, bool) {
	v, n := binary.Uvarint(body)
	return v, n > 0
}

func decodeHello(body []byte) (*hello, error) {
	d := decoder{b: body, msg: msgHello}
	h := &hello{
		Version:      d.uvarint("version"),
		RunID:        d.string("run id"),
		Proof:        d.bytes("proof"),
		Hostname:     d.string("hostname"),
		BlockID:      d.string("block id"),
		Slots:        d.int("slots"),
		Accelerators: d.strings("accelerators"),
		Cores:        d.int("cores"),
		Memory:       d.uvarint("memory"),
	}
	return h, d.done()
}

func decodeWelcome(body []byte) (*welcome, error) {
	d := decoder{b: body, msg: msgWelcome}
	w := &welcome{
		ManagerID:          d.uvarint("manager id"),
		Capacity:           d.int("capacity"),
		HeartbeatPeriod:    time.Duration(d.varint("heartbeat period")),
		HeartbeatThreshold: time.Duration(d.varint("heartbeat threshold")),
		MaxFrame:           d.int("max frame"),
		ResourceInterval:   time.Duration(d.varint("resource interval")),
	}
	return w, d.done()
}

func decodeRefuse(body []byte) (*refuse, error) {
	d := decoder{b: body, msg: msgRefuse}
	r := &refuse{Reason: d.string("reason")}
	return r, d.done()
}

func decodeTask(body []byte) (*Task, error) {
	d := decoder{b: body, msg: msgTask}
	t := &Task{ID: d.int("id"), Try: d.int("try")}
	switch k := Kind(d.byte("kind")); k {
	case KindPython, KindBash:
		t.Kind = k
	default:
		d.fail("kind", k.String())
	}
	t.App = d.string("app")
	t.BundleHash = d.string("bundle hash")
	t.Bundle = d.bytes("bundle")
	t.Func = d.string("func")
	t.Args = d.bytes("args")
	t.Kwargs = d.bytes("kwargs")
	t.Walltime = time.Duration(d.varint("walltime"))
	t.Env = d.strings("env")
	t.Stdout = d.string("stdout")
	t.Stderr = d.string("stderr")
	return t, d.done()
}

func decodeResult(body []byte) (*Result, error) {
	d := decoder{b: body, msg: msgResult}
	r := &Result{ID: d.int("id"), Try: d.int("try")}
	switch d.byte("status") {
	case 0:
		r.Value = d.bytes("value")
	case 1:
		r.Err = &RemoteError{Kind: d.string("error kind"), Message: d.string("error message"), Traceback: d.string("traceback")}
	default:
		d.fail("status", "unknown")
	}
	return r, d.done()
}

// decodeMessage decodes any message; the hot paths call the typed
// decoders directly.
func decodeMessage(t msgType, body []byte) (message, error) {
	switch t {
	case msgHello:
		return decodeHello(body)
	case msgWelcome:
		return decodeWelcome(body)
	case msgRefuse:
		return decodeRefuse(body)
	case msgTask:
		return decodeTask(body)
	case msgResult:
		return decodeResult(body)
	case msgResource:
		return decodeResources(body)
	case msgHeartbeat, msgDrain, msgStop, msgBye:
		if len(body) != 0 {
			return nil, fmt.Errorf("%w %v: %d unexpected bytes", errMalformed, t, len(body))
		}
		return control(t), nil
	}
	return nil, fmt.Errorf("%w frame: %v", errMalformed, t)
}

// errMalformed marks a frame that breaks the protocol, as opposed to a
// connection that merely ended.
var errMalformed = errors.New("malformed")

// FrameTooLargeError is a frame whose header announces more than the
// reader accepts. The stream cannot be trusted past it.
type FrameTooLargeError struct {
	Type  byte
	Size  uint64
	Limit int
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("frame of %d bytes (type %d) exceeds the limit of %d", e.Size, e.Type, e.Limit)
}

// frameReader splits a stream into frames of at most limit bytes.
type frameReader struct {
	r     *bufio.Reader
	limit int
	buf   []byte // bodies larger than r's buffer
}

// next returns the next frame. The body is valid until the next call.
func (fr *frameReader) next() (msgType, []byte, error) {
	if cap(fr.buf) > 1<<20 {
		// Do not let one big bundle pin its size for the connection's life.
		fr.buf = nil
	}
	hdr, err := fr.r.Peek(headerSize)
	if err != nil {
		if errors.Is(err, io.EOF) && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	t := msgType(hdr[0])
	n := binary.BigEndian.Uint32(hdr[1:])
	if uint64(n) > uint64(fr.limit) {
		return 0, nil, &FrameTooLargeError{Type: hdr[0], Size: uint64(n), Limit: fr.limit}
	}
	_, _ = fr.r.Discard(headerSize) // peeked, so it cannot fail
	if int(n) <= fr.r.Size() {
		// Most frames fit the reader's buffer: hand out a view of it
		// rather than copying. Discard after a successful Peek of the same
		// length only moves an index, so the view stays intact.
		body, err := fr.r.Peek(int(n))
		if err != nil {
			return 0, nil, unexpected(err)
		}
		_, _ = fr.r.Discard(int(n))
		return t, body, nil
	}
	if cap(fr.buf) < int(n) {
		fr.buf = make([]byte, n)
	}
	body := fr.buf[:n]
	if _, err := io.ReadFull(fr.r, body); err != nil {
		return 0, nil, unexpected(err)
	}
	return t, body, nil
}

// ready reports whether a whole frame is buffered, so next would not block.
func (fr *frameReader) ready() bool {
	n := fr.r.Buffered()
	if n < headerSize {
		return false
	}
	hdr, _ := fr.r.Peek(headerSize) // buffered: no I/O
	return uint64(n) >= headerSize+uint64(binary.BigEndian.Uint32(hdr[1:]))
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
