package memo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// An entry on disk is framed so that damage is detected, not returned:
//
//	crc32c(key ‖ payload) [4 bytes, little endian]
//	payload:
//	  encoding version    [1 byte, entryEncoding]
//	  created             [varint, Unix nanoseconds]
//	  len(app), app       [uvarint, bytes]
//	  len(run), run       [uvarint, bytes]
//	  value               [the rest]
//
// The checksum covers the key too, so an entry that ends up under another
// key (a flipped bit in the key) fails as well. Varints keep a small result
// small: with app "sim" and run "runinfo/003" the frame costs 30 bytes.
const entryEncoding = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// maxFrame bounds a frame's bytes besides app, run and value: checksum,
// encoding and three varints.
const maxFrame = 4 + 1 + 3*binary.MaxVarintLen64

// errCorrupt wraps every reason a stored entry fails to decode.
var errCorrupt = errors.New("corrupt memo entry")

func checksum(k Key, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, k[:])
	return crc32.Update(c, castagnoli, payload)
}

// encodeEntry appends e's frame to dst. e must be normalized.
func encodeEntry(dst []byte, e Entry) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = appendPayload(dst, &e, e.Created.UnixNano())
	binary.LittleEndian.PutUint32(dst[start:], checksum(e.Key, dst[start+4:]))
	return dst
}

// appendPayload appends what follows the checksum; created is e.Created
// in Unix nanoseconds, passed so that callers need not normalize e.
func appendPayload(dst []byte, e *Entry, created int64) []byte {
	dst = append(dst, entryEncoding)
	dst = binary.AppendVarint(dst, created)
	dst = binary.AppendUvarint(dst, uint64(len(e.App)))
	dst = append(dst, e.App...)
	dst = binary.AppendUvarint(dst, uint64(len(e.Run)))
	dst = append(dst, e.Run...)
	return append(dst, e.Value...)
}

// decodeEntry checks b's checksum against k and decodes it. The entry
// shares no memory with b.
func decodeEntry(k Key, b []byte) (Entry, error) {
	if len(b) < 4 {
		return Entry{}, fmt.Errorf("%w: %d bytes, shorter than its checksum", errCorrupt, len(b))
	}
	if got, want := checksum(k, b[4:]), binary.LittleEndian.Uint32(b); got != want {
		return Entry{}, fmt.Errorf("%w: checksum %08x, want %08x", errCorrupt, got, want)
	}
	return decodePayload(k, b[4:])
}

// decodePayload decodes what follows the checksum. It is separate so that
// the fuzz test reaches it without forging checksums.
func decodePayload(k Key, b []byte) (Entry, error) {
	if len(b) == 0 {
		return Entry{}, fmt.Errorf("%w: empty", errCorrupt)
	}
	if b[0] != entryEncoding {
		// A newer starflow may one day write another encoding into a store
		// whose format is unchanged; to this one it is a miss, not a result.
		return Entry{}, fmt.Errorf("%w: encoding %d, want %d", errCorrupt, b[0], entryEncoding)
	}
	b = b[1:]
	created, n := binary.Varint(b)
	if n <= 0 {
		return Entry{}, fmt.Errorf("%w: bad creation time", errCorrupt)
	}
	b = b[n:]
	app, b, err := decodeString(b, "app")
	if err != nil {
		return Entry{}, err
	}
	run, b, err := decodeString(b, "run")
	if err != nil {
		return Entry{}, err
	}
	return Entry{
		Key:     k,
		App:     app,
		Run:     run,
		Created: time.Unix(0, created).UTC(),
		Value:   append([]byte(nil), b...),
	}, nil
}

func decodeString(b []byte, what string) (string, []byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return "", nil, fmt.Errorf("%w: bad %s length", errCorrupt, what)
	}
	b = b[w:]
	return string(b[:n]), b[n:], nil
}
