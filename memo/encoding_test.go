package memo

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

func testEntry() Entry {
	return normalize(Entry{
		Key:     sha256.Sum256([]byte("k")),
		App:     "sim",
		Run:     "runinfo/003",
		Created: time.Date(2026, 9, 1, 12, 0, 0, 5, time.UTC),
		Value:   []byte("0123456789abcdef"),
	}, time.Time{})
}

func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	want := testEntry()
	b := encodeEntry(nil, want)
	got, err := decodeEntry(want.Key, b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != want.Key || got.App != want.App || got.Run != want.Run ||
		got.Created != want.Created || !bytes.Equal(got.Value, want.Value) {
		t.Errorf("decode(encode(%+v)) = %+v", want, got)
	}
	t.Logf("frame of a 16-byte result: %d bytes", len(b)-len(want.Value))
}

// Every single-bit flip anywhere in the frame, and a frame read under
// another key, must fail: damage is a miss, never a result.
func TestDecodeDetectsDamage(t *testing.T) {
	t.Parallel()
	e := testEntry()
	b := encodeEntry(nil, e)
	for i := range b {
		for bit := range 8 {
			d := bytes.Clone(b)
			d[i] ^= 1 << bit
			if _, err := decodeEntry(e.Key, d); !errors.Is(err, errCorrupt) {
				t.Fatalf("byte %d bit %d flipped: err %v, want errCorrupt", i, bit, err)
			}
		}
	}
	other := e.Key
	other[31] ^= 1
	if _, err := decodeEntry(other, b); !errors.Is(err, errCorrupt) {
		t.Errorf("under another key: err %v, want errCorrupt", err)
	}
	for n := range len(b) {
		if _, err := decodeEntry(e.Key, b[:n]); !errors.Is(err, errCorrupt) {
			t.Fatalf("truncated to %d bytes: err %v, want errCorrupt", n, err)
		}
	}
}

// FuzzDecodeEntry feeds arbitrary bytes to the decoder: it must never
// panic, and whatever it accepts must encode back to an equal entry.
func FuzzDecodeEntry(f *testing.F) {
	e := testEntry()
	f.Add(encodeEntry(nil, e))
	f.Add(encodeEntry(nil, Entry{Key: e.Key, Created: time.Unix(0, 0).UTC()}))
	f.Add(appendPayload(nil, &e, e.Created.UnixNano()))
	f.Add([]byte{})
	f.Add([]byte{entryEncoding, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		// Through the checksum, as the stores read...
		if got, err := decodeEntry(e.Key, b); err == nil {
			checkReencode(t, got)
		} else if !errors.Is(err, errCorrupt) {
			t.Fatalf("decodeEntry: error %v does not wrap errCorrupt", err)
		}
		// ...and past it, where the fuzzer would rarely get by chance.
		if got, err := decodePayload(e.Key, b); err == nil {
			checkReencode(t, got)
		} else if !errors.Is(err, errCorrupt) {
			t.Fatalf("decodePayload: error %v does not wrap errCorrupt", err)
		}
	})
}

func checkReencode(t *testing.T, e Entry) {
	t.Helper()
	again, err := decodeEntry(e.Key, encodeEntry(nil, e))
	if err != nil {
		t.Fatalf("decoded entry does not re-encode: %v", err)
	}
	if again.App != e.App || again.Run != e.Run || again.Created != e.Created || !bytes.Equal(again.Value, e.Value) {
		t.Fatalf("re-encoded entry differs: %+v, was %+v", again, e)
	}
}
