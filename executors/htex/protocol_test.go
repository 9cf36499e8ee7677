package htex

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/starflow-hpc/starflow/monitoring/procstat"
)

// sampleMessages has every message type, with empty and full fields.
func sampleMessages() []message {
	return []message{
		&hello{Version: ProtocolVersion, RunID: "run-7", Proof: bytes.Repeat([]byte{7}, 32),
			Hostname: "node01", BlockID: "3", Slots: 8, Accelerators: []string{"0", "1"}, Cores: 64, Memory: 256 << 30},
		&hello{},
		&welcome{ManagerID: 42, Capacity: 10, HeartbeatPeriod: 30 * time.Second, HeartbeatThreshold: 2 * time.Minute,
			MaxFrame: DefaultMaxFrame, ResourceInterval: 1500 * time.Millisecond},
		&refuse{Reason: "wrong secret"},
		&Task{ID: 1 << 40, Try: 2, Kind: KindBash, App: "sim", BundleHash: "abc", Bundle: []byte("def f(): pass"),
			Func: "f", Args: []byte{1, 2, 3}, Kwargs: []byte{4}, Walltime: 90 * time.Second,
			Env: []string{"A=1", "B="}, Stdout: "out.txt", Stderr: "err.txt"},
		&Task{},
		&Result{ID: 3, Try: 1, Value: []byte("42")},
		&Result{ID: 4, Err: &RemoteError{Kind: "ValueError", Message: "no", Traceback: "  line 3\n"}},
		&Result{},
		&resources{Samples: []ResourceSample{
			{ID: 7, Try: 1, At: time.Unix(0, 1764037213123456789), PID: 4242, CPUPercent: 99.5, MemoryPercent: -1,
				Usage: procstat.Usage{User: 1.25, System: 0.5, RSS: 1 << 20, VSize: 1 << 30, Read: 4096, Write: 0,
					Procs: 3, Status: "sleeping", OK: true}},
			{At: time.Unix(0, 0), Usage: procstat.Usage{OK: true}},
		}},
		&resources{},
		control(msgHeartbeat), control(msgDrain), control(msgStop), control(msgBye),
	}
}

// A resource frame that claims more samples than it holds is refused
// before anything is allocated for them.
func TestResourceCountBeyondTheFrame(t *testing.T) {
	t.Parallel()
	body := appendFrame(nil, &resources{Samples: []ResourceSample{{At: time.Unix(0, 0)}}})[headerSize:]
	body[0] = 200 // one sample's bytes, a count of 200
	if _, err := decodeResources(body); err == nil || !strings.Contains(err.Error(), "count") {
		t.Errorf("decodeResources = %v, want an error about the count", err)
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	t.Parallel()
	var stream []byte
	msgs := sampleMessages()
	for _, m := range msgs {
		stream = appendFrame(stream, m)
	}
	// A reader buffer smaller than some frames exercises both paths.
	fr := frameReader{r: bufio.NewReaderSize(bytes.NewReader(stream), 16), limit: 1 << 20}
	for _, want := range msgs {
		typ, body, err := fr.next()
		if err != nil {
			t.Fatalf("%T: %v", want, err)
		}
		got, err := decodeMessage(typ, body)
		if err != nil {
			t.Fatalf("%T: %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
		}
	}
	if _, _, err := fr.next(); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
}

func TestTaskWithoutBundle(t *testing.T) {
	t.Parallel()
	task := &Task{ID: 1, BundleHash: "h", Bundle: []byte("big")}
	got, err := decodeTask(appendTask(nil, task, 9, 1, false))
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != 9 || got.Try != 1 || got.BundleHash != "h" || got.Bundle != nil {
		t.Errorf("got %+v, want id 9, try 1, the hash and no bundle", got)
	}
}

func TestFrameErrors(t *testing.T) {
	t.Parallel()
	frame := appendFrame(nil, &refuse{Reason: "x"})
	tests := []struct {
		name   string
		stream []byte
		limit  int
		want   string
	}{
		{"too large", frame, 1, "exceeds the limit"},
		{"truncated header", frame[:3], 100, "unexpected EOF"},
		{"truncated body", frame[:len(frame)-1], 100, "unexpected EOF"},
	}
	for _, tt := range tests {
		fr := frameReader{r: bufio.NewReaderSize(bytes.NewReader(tt.stream), 16), limit: tt.limit}
		if _, _, err := fr.next(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	var big *FrameTooLargeError
	fr := frameReader{r: bufio.NewReader(bytes.NewReader(frame)), limit: 1}
	if _, _, err := fr.next(); !errors.As(err, &big) || big.Size != uint64(len(frame)-headerSize) {
		t.Errorf("too large: %v, want a FrameTooLargeError with the size", err)
	}
}

func TestMalformedBodies(t *testing.T) {
	t.Parallel()
	good := appendFrame(nil, sampleMessages()[4])[headerSize:]
	tests := []struct {
		name string
		typ  msgType
		body []byte
		want string
	}{
		{"trailing bytes", msgTask, append(bytes.Clone(good), 0), "trailing bytes"},
		{"truncated", msgTask, good[:len(good)-2], "malformed task"},
		{"bad kind", msgTask, []byte{0, 0, 9}, "kind"},
		{"length beyond frame", msgRefuse, []byte{5, 'a'}, "length beyond the frame"},
		{"huge count", msgHello, []byte{1, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0x0f}, "count beyond the frame"},
		{"bad status", msgResult, []byte{0, 0, 2}, "status"},
		{"body on a control", msgStop, []byte{0}, "unexpected bytes"},
		{"unknown type", 99, nil, "unknown message type 99"},
		{"varint overflow", msgResult, bytes.Repeat([]byte{0xff}, 11), "bad varint"},
	}
	for _, tt := range tests {
		_, err := decodeMessage(tt.typ, tt.body)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, errMalformed) {
			t.Errorf("%s: %v, want a malformed error naming %q", tt.name, err, tt.want)
		}
	}
}

// FuzzFrames feeds arbitrary streams to the frame reader and decoders: no
// panic, no frame above the limit, and what decodes re-encodes to the same.
func FuzzFrames(f *testing.F) {
	var all []byte
	for _, m := range sampleMessages() {
		all = appendFrame(all, m)
		f.Add(appendFrame(nil, m))
	}
	f.Add(all)
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 12
		fr := frameReader{r: bufio.NewReaderSize(bytes.NewReader(data), 16), limit: limit}
		for {
			typ, body, err := fr.next()
			if err != nil {
				return
			}
			if len(body) > limit {
				t.Fatalf("frame of %d bytes passed a limit of %d", len(body), limit)
			}
			checkReencode(t, typ, body)
		}
	})
}

// FuzzMessage decodes arbitrary bodies of every type.
func FuzzMessage(f *testing.F) {
	for _, m := range sampleMessages() {
		f.Add(byte(m.kind()), m.appendBody(nil))
	}
	f.Fuzz(func(t *testing.T, typ byte, body []byte) {
		checkReencode(t, msgType(typ), body)
	})
}

func checkReencode(t *testing.T, typ msgType, body []byte) {
	m, err := decodeMessage(typ, body)
	if err != nil {
		if !errors.Is(err, errMalformed) {
			t.Fatalf("decode error %v is not marked malformed", err)
		}
		return
	}
	again, err := decodeMessage(typ, m.appendBody(nil))
	if err != nil {
		t.Fatalf("re-encoded %#v does not decode: %v", m, err)
	}
	if !reflect.DeepEqual(m, again) {
		t.Fatalf("re-encoding changed the message:\n%#v\n%#v", m, again)
	}
}

// TestWriteSeedCorpus rewrites testdata/fuzz from sampleMessages when
// HTEX_WRITE_CORPUS is set; the committed files are its output.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("HTEX_WRITE_CORPUS") == "" {
		t.Skip("set HTEX_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(fuzz, name string, values ...string) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		text := "go test fuzz v1\n" + strings.Join(values, "\n") + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var all []byte
	for i, m := range sampleMessages() {
		name := fmt.Sprintf("%02d-%v", i, m.kind())
		frame := appendFrame(nil, m)
		all = append(all, frame...)
		write("FuzzFrames", name, fmt.Sprintf("[]byte(%q)", frame))
		write("FuzzMessage", name, fmt.Sprintf("byte(%q)", byte(m.kind())), fmt.Sprintf("[]byte(%q)", m.appendBody(nil)))
	}
	write("FuzzFrames", "all", fmt.Sprintf("[]byte(%q)", all))
	write("FuzzFrames", "http", fmt.Sprintf("[]byte(%q)", "GET / HTTP/1.1\r\n\r\n"))
	write("FuzzFrames", "oversized", fmt.Sprintf("[]byte(%q)", []byte{byte(msgResult), 0x7f, 0xff, 0xff, 0xff, 0}))
}
