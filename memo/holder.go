package memo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// holderFile names the process that has the store open. Badger's own LOCK
// file holds only a pid; a user whose second `starflow run` is refused
// needs to know which run, on which node, and since when.
const holderFile = "HOLDER"

// Holder is the process that has a store open, as recorded in its holder
// file.
type Holder struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Command string    `json:"command"`
	Since   time.Time `json:"since"`
}

func currentHolder() Holder {
	host, _ := os.Hostname()
	return Holder{
		PID:     os.Getpid(),
		Host:    host,
		Command: strings.Join(commandLine(), " "),
		Since:   time.Now().UTC().Truncate(time.Second),
	}
}

// commandLine is the program's arguments with the program shortened to
// its base name ("starflow run x.star", not "/opt/.../bin/starflow ...").
func commandLine() []string {
	args := append([]string(nil), os.Args...)
	if len(args) > 0 {
		args[0] = filepath.Base(args[0])
	}
	return args
}

// InUseError says that another process holds the store.
type InUseError struct {
	Dir    string
	Holder Holder // zero when the holder could not be read
}

func (e *InUseError) Error() string {
	h := e.Holder
	if h.PID == 0 {
		return fmt.Sprintf("memo store %s is in use by another process; wait for it or use --memo-dir", e.Dir)
	}
	return fmt.Sprintf("memo store %s is in use by pid %d (%s) on %s since %s; wait for it or use --memo-dir",
		e.Dir, h.PID, h.Command, h.Host, h.Since.Local().Format(time.DateTime))
}

// errLocked is what tryLock returns when another process holds the lock.
var errLocked = errors.New("locked")

// storeLock is held for as long as a store is open.
type storeLock struct{ f *os.File }

// lockStore takes the store's lock, retrying for up to wait, and records
// this process as the holder.
func lockStore(dir string, wait time.Duration) (*storeLock, error) {
	path := filepath.Join(dir, holderFile)
	deadline := time.Now().Add(wait)
	pause := 50 * time.Millisecond
	selfRetried := false
	for {
		f, err := tryLock(path)
		if err == nil {
			if err := writeHolder(f); err != nil {
				f.Close()
				return nil, fmt.Errorf("memo store %s: record holder: %w", dir, err)
			}
			return &storeLock{f: f}, nil
		}
		if !errors.Is(err, errLocked) {
			return nil, fmt.Errorf("memo store %s: lock: %w", dir, err)
		}
		if time.Now().Add(pause).After(deadline) {
			h := readHolder(path)
			if h.PID != os.Getpid() || selfRetried {
				return nil, &InUseError{Dir: dir, Holder: h}
			}
			// The holder is this process, which closed the store: a child
			// it forked at that moment holds a copy of the lock's file
			// until it execs. Give that a moment rather than refuse.
			selfRetried = true
			deadline = time.Now().Add(time.Second)
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
	}
}

func writeHolder(f *os.File) error {
	b, err := json.Marshal(currentHolder())
	if err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(append(b, '\n'), 0)
	return err
}

// readHolder returns the zero holder when the file is unreadable, which
// happens in the moment between another process taking the lock and
// writing its name.
func readHolder(path string) Holder {
	var h Holder
	b, err := os.ReadFile(path)
	if err == nil {
		_ = json.Unmarshal(b, &h)
	}
	return h
}

// release leaves the holder file in place: truncating it would race with
// the next holder writing its name.
func (l *storeLock) release() error { return l.f.Close() }
