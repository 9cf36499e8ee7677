package memo

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"
)

// A results-log record (see journal.go) is one Put or Delete of one key:
//
//	crc32c of the rest  [4 bytes, little endian]
//	kind                [1 byte: recPut or recDelete]
//	len(body)           [4 bytes, little endian]
//	key                 [32 bytes]
//	body                [a Put's payload (see encoding.go); empty for a Delete]
//
// The checksum covers the kind, length and key too, so a damaged record is
// never applied, and a record cut short by a crash is told from one that
// is whole. The body is the payload of an entry without its own checksum:
// folding the record into Badger adds that (entryValue).
const (
	recPut    = 1
	recDelete = 2

	recHeader = 4 + 1 + 4 + len(Key{})
	// maxBody bounds a record's body: a Put's payload is smaller than the
	// entry Badger would hold.
	maxBody = MaxEntrySize
)

// appendPutRecord appends e's record to dst; created is e.Created in Unix
// nanoseconds, already defaulted.
func appendPutRecord(dst []byte, e *Entry, created int64) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, recPut, 0, 0, 0, 0)
	dst = append(dst, e.Key[:]...)
	dst = appendPayload(dst, e, created)
	return sealRecord(dst, start)
}

func appendDeleteRecord(dst []byte, k Key) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0, recDelete, 0, 0, 0, 0)
	dst = append(dst, k[:]...)
	return sealRecord(dst, start)
}

// sealRecord fills in the length and checksum of the record at dst[start:].
func sealRecord(dst []byte, start int) []byte {
	binary.LittleEndian.PutUint32(dst[start+5:], uint32(len(dst)-start-recHeader))
	binary.LittleEndian.PutUint32(dst[start:], crc32.Checksum(dst[start+4:], castagnoli))
	return dst
}

// record is a record as read back, its body still in the segment's bytes.
type record struct {
	kind byte
	key  Key
	body []byte
	off  int64 // of the body in the segment
}

var (
	// errTorn: the record runs past the end of what was read, as the last
	// write of a process killed mid-write does.
	errTorn = errors.New("record cut short")
	// errBadRecord: not a record (garbage, or damaged beyond telling).
	errBadRecord = errors.New("not a record")
)

// parseRecord reads the record at the start of b. It returns its size, or
// errTorn, errBadRecord, or errCorrupt (a whole record whose checksum
// fails; rec.key is the key as read, which may be damaged too).
func parseRecord(b []byte) (rec record, size int, err error) {
	if len(b) < recHeader {
		return rec, 0, errTorn
	}
	rec.kind = b[4]
	n := binary.LittleEndian.Uint32(b[5:])
	if (rec.kind != recPut && rec.kind != recDelete) || n > maxBody || (rec.kind == recDelete && n != 0) {
		return rec, 0, errBadRecord
	}
	copy(rec.key[:], b[9:recHeader])
	size = recHeader + int(n)
	if len(b) < size {
		return rec, 0, errTorn
	}
	if crc32.Checksum(b[4:size], castagnoli) != binary.LittleEndian.Uint32(b) {
		return rec, size, fmt.Errorf("%w: record checksum mismatch", errCorrupt)
	}
	rec.body = b[recHeader:size]
	return rec, size, nil
}

// scanRecords calls fn with each whole record in b, in order, and returns
// how the segment ended. A record that fails its checksum is passed to
// damaged when its header was readable, and reading resumes at the next
// record that checks out: damage costs the records it touches, not the
// rest of the segment. Bytes at the end that are no record (a write cut
// short by a crash) are not damage; they are where the segment ends.
func scanRecords(b []byte, fn func(record), damaged func(k Key, err error)) (end int) {
	off := 0
	for off < len(b) {
		rec, size, err := parseRecord(b[off:])
		if err == nil {
			rec.off = int64(off + recHeader)
			fn(rec)
			off += size
			continue
		}
		next := resync(b, off+1)
		if next < 0 {
			if errors.Is(err, errCorrupt) {
				// Whole, yet wrong: damage, even at the end.
				damaged(rec.key, err)
			}
			return off
		}
		if errors.Is(err, errCorrupt) {
			damaged(rec.key, err)
		} else {
			damaged(Key{}, fmt.Errorf("%w: %d unreadable bytes at offset %d", errCorrupt, next-off, off))
		}
		off = next
	}
	return off
}

// resync returns the offset of the first whole, undamaged record at or
// after from, or -1. Only damage makes it run, so its cost (a checksum per
// plausible header) does not matter.
func resync(b []byte, from int) int {
	for i := from; i+recHeader <= len(b); i++ {
		if k := b[i+4]; k != recPut && k != recDelete {
			continue
		}
		if _, _, err := parseRecord(b[i:]); err == nil {
			return i
		}
	}
	return -1
}

// entryValue is the value Badger stores for a Put record: the entry's
// checksum, over key and payload, then the payload.
func entryValue(k Key, payload []byte) []byte {
	v := make([]byte, 4, 4+len(payload))
	binary.LittleEndian.PutUint32(v, checksum(k, payload))
	return append(v, payload...)
}

// createdNanos is e.Created in Unix nanoseconds, now when it is zero.
func createdNanos(e *Entry, now func() time.Time) int64 {
	if e.Created.IsZero() {
		return now().UnixNano()
	}
	return e.Created.UnixNano()
}
