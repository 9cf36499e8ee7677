package builtins

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/codec"
	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/memo"
)

// Checkpoint modes, Parsl's names. starflow's default is taskExit: with
// the project's store, a rerun after a crash finds every finished result.
const (
	modeNone     = "none"
	modeTaskExit = "task_exit"
	modePeriodic = "periodic"
	modeDFKExit  = "dfk_exit"
	modeManual   = "manual"
)

// ValueCodec is the encoding of results and of key parts: Starlark values
// plus File and parsl.AUTO_LOGNAME. `starflow memo show` decodes with it.
func ValueCodec() *codec.Codec {
	return codec.New(
		codec.Extension{
			Name: "File",
			Encode: func(v starlark.Value) ([]byte, bool) {
				f, ok := v.(*File)
				if !ok {
					return nil, false
				}
				return []byte(f.url), true
			},
			Decode: func(b []byte) (starlark.Value, error) { return NewFile(string(b)) },
		},
		codec.Extension{
			Name: "AUTO_LOGNAME",
			Encode: func(v starlark.Value) ([]byte, bool) {
				_, ok := v.(autoLogname)
				return nil, ok
			},
			Decode: func([]byte) (starlark.Value, error) { return autoLogname{}, nil },
		},
	)
}

// memoizer is the Memoizer of one kernel: this run's results in memory,
// over the project's durable store.
type memoizer struct {
	s      *Session
	mode   string
	period time.Duration
	runDir string
	codec  *codec.Codec

	mu      sync.Mutex
	mem     map[dfk.Key]starlark.Value // results the store does not have (yet)
	hasMem  atomic.Bool                // mem is not empty: lookups must consult it
	pending []memo.Entry               // batched modes: results not yet written
	warned  map[string]bool

	stop chan struct{} // periodic flusher
	done chan struct{}

	digests sync.Map // *starlark.Function → codeDigest: the code cannot change during a run
}

type codeDigest struct {
	sum [32]byte
	ok  bool
}

// codeDigest is the digest of fn's code (interp's CodeDigest), computed
// once per function rather than once per call. It is stored by pointer:
// a [32]byte in an interface would be copied to the heap on every load.
func (m *memoizer) codeDigest(fn *starlark.Function) *codeDigest {
	if d, ok := m.digests.Load(fn); ok {
		return d.(*codeDigest)
	}
	d := &codeDigest{}
	d.sum, d.ok = m.s.opts.CodeDigest(fn)
	m.digests.Store(fn, d)
	return d
}

var _ dfk.Memoizer = (*memoizer)(nil)

func newMemoizer(s *Session, cfg *Config, runDir string) *memoizer {
	m := &memoizer{
		s: s, mode: cfg.memoMode(), period: cfg.checkpointPeriod, runDir: runDir,
		codec: s.codec, mem: map[dfk.Key]starlark.Value{}, warned: map[string]bool{},
	}
	if m.mode == modePeriodic {
		m.stop, m.done = make(chan struct{}), make(chan struct{})
		go m.flushEvery(m.period)
	}
	return m
}

func (m *memoizer) Lookup(ctx context.Context, key dfk.Key, app string) (any, bool) {
	if m.hasMem.Load() {
		m.mu.Lock()
		v, ok := m.mem[key]
		m.mu.Unlock()
		if ok {
			return v, true
		}
	}
	if m.s.opts.FreshMemo {
		return nil, false
	}
	store, err := m.s.memoStore()
	if err != nil || store == nil {
		return nil, false
	}
	e, ok, err := store.Get(ctx, memo.Key(key))
	if err != nil || !ok {
		if err != nil {
			m.warnOnce("lookup", "memo lookup failed; running instead: %v", err)
		}
		return nil, false
	}
	v, err := m.codec.Unmarshal(e.Value)
	if err != nil {
		m.warnOnce("decode:"+app, "memo entry %s of %s unreadable (%v); running it again", memo.Key(key), app, err)
		return nil, false
	}
	return v, true
}

// Record keeps the value for this run in memory, unless the store has it
// durably before anyone could look for it: with task_exit, the task's
// flight (dfk/memo.go) makes a task with the same key wait until done,
// and the store answers after that. Keeping every result in memory too
// would cost a map entry per task, and the memory of every result.
func (m *memoizer) Record(key dfk.Key, app string, value any, done func()) {
	v, _ := value.(starlark.Value)
	if v == nil {
		v = starlark.None
	}
	if m.mode == modeNone {
		m.remember(key, v)
		done()
		return
	}
	data, err := m.codec.Marshal(v)
	if err != nil {
		m.warnOnce("encode:"+app, "result of %s not memoized: %v", app, err)
		m.remember(key, v)
		done()
		return
	}
	e := memo.Entry{Key: memo.Key(key), App: app, Run: m.runDir, Created: time.Now(), Value: data}
	if m.mode != modeTaskExit {
		m.mu.Lock()
		m.pending = append(m.pending, e)
		m.mu.Unlock()
		m.remember(key, v)
		done()
		return
	}
	store, err := m.s.memoStore()
	if err != nil || store == nil || m.s.opts.FreshMemo {
		// --fresh: lookups skip the store, whose older entries they must
		// not see; this run's results they must.
		m.remember(key, v)
	}
	if err != nil || store == nil {
		done()
		return
	}
	store.PutAsync([]memo.Entry{e}, func(err error) {
		if err != nil {
			m.warnOnce("put", "memo write failed: %v", err)
			m.remember(key, v)
		}
		done()
	})
}

// remember keeps a result for the rest of this run.
func (m *memoizer) remember(key dfk.Key, v starlark.Value) {
	m.mu.Lock()
	m.mem[key] = v
	m.mu.Unlock()
	m.hasMem.Store(true)
}

// checkpoint writes the results batched since the last one (Parsl's
// dfk.checkpoint()).
func (m *memoizer) checkpoint(ctx context.Context) (int, error) {
	m.mu.Lock()
	batch := m.pending
	m.pending = nil
	m.mu.Unlock()
	if len(batch) == 0 {
		return 0, nil
	}
	store, err := m.s.memoStore()
	if err != nil {
		return 0, err
	}
	if store == nil {
		return 0, nil
	}
	if err := store.Put(ctx, batch...); err != nil {
		return 0, fmt.Errorf("checkpoint: %w", err)
	}
	m.s.log.Debug("checkpoint", "results", len(batch))
	return len(batch), nil
}

func (m *memoizer) flushEvery(d time.Duration) {
	defer close(m.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			if _, err := m.checkpoint(context.Background()); err != nil {
				m.warnOnce("periodic", "%v", err)
			}
		}
	}
}

// close ends the run's memoization: dfk_exit and periodic write what is
// left; manual writes only when asked, as in Parsl.
func (m *memoizer) close() error {
	if m.stop != nil {
		close(m.stop)
		<-m.done
	}
	if m.mode == modeDFKExit || m.mode == modePeriodic {
		_, err := m.checkpoint(context.Background())
		return err
	}
	return nil
}

func (m *memoizer) warnOnce(what, format string, args ...any) {
	m.mu.Lock()
	seen := m.warned[what]
	m.warned[what] = true
	m.mu.Unlock()
	if seen {
		return
	}
	msg := fmt.Sprintf(format, args...)
	m.s.log.Warn(msg)
	fmt.Fprintln(m.s.opts.Stderr, "starflow: warning:", msg)
}

// memoStore opens the project's store on first use: a script without
// cached apps never touches it. nil, nil means memoization has no store
// (no --memo-dir could be worked out).
func (s *Session) memoStore() (*memo.Badger, error) {
	s.storeOnce.Do(func() {
		if s.opts.MemoDir == "" {
			return
		}
		s.store, s.storeErr = memo.Open(s.opts.MemoDir, memo.Options{Logger: s.log.Named("memo")})
		if s.storeErr == nil {
			s.log.Info("memo store opened", "dir", s.opts.MemoDir)
		}
	})
	return s.store, s.storeErr
}

// closeMemoStore is called once every kernel is shut down.
func (s *Session) closeMemoStore() error {
	if s.store == nil {
		return nil
	}
	return s.store.Close()
}

// keyFunc returns the function that computes a call's memo key once its
// futures are done, or nil when the call is not memoized.
func (a *App) keyFunc(s *Session, kr *kernelRun, c *call) func() (dfk.Key, error) {
	if !a.cache || !kr.cfg.appCache || a.kind == dfk.JoinApp || kr.memo == nil {
		return nil
	}
	digest := kr.memo.codeDigest(a.fn)
	if !digest.ok {
		return nil
	}
	return func() (dfk.Key, error) {
		k := keyer{s: s, buf: make([]byte, 0, 128)}
		k.buf = append(k.buf, "starflow-memo-1\x00"...)
		k.buf = append(k.buf, a.fn.Name()...)
		k.buf = append(k.buf, 0)
		k.buf = append(k.buf, digest.sum[:]...)
		for i, arg := range c.args {
			if err := k.add(arg, true); err != nil {
				return dfk.Key{}, fmt.Errorf("argument %d: %w", i+1, err)
			}
		}
		for _, kv := range keyedKwargs(c, a.ignoreForCache) {
			name := string(kv[0].(starlark.String))
			k.buf = append(k.buf, name...)
			k.buf = append(k.buf, 0)
			if err := k.add(kv[1], !producedFiles[name]); err != nil {
				return dfk.Key{}, fmt.Errorf("argument %s: %w", name, err)
			}
		}
		// Files key on their content, not just their name.
		for _, f := range k.files {
			if f.scheme != "file" {
				continue
			}
			d, err := s.fileDigests.digest(f.path)
			if err != nil {
				return dfk.Key{}, err
			}
			k.buf = append(k.buf, d[:]...)
		}
		return sha256.Sum256(k.buf), nil
	}
}

// keyer accumulates the canonical encoding a key hashes.
type keyer struct {
	s     *Session
	buf   []byte
	files []*File // input files, whose content the key covers too
}

func (k *keyer) add(v starlark.Value, inputs bool) error {
	r, err := resolve(v)
	if err != nil {
		return err
	}
	if inputs {
		k.files = collectFiles(r, k.files)
	}
	k.buf, err = k.s.codec.AppendKey(k.buf, r)
	return err
}

// executionOptions say how a task runs, not what it computes: raising a
// walltime that cut a task short, or asking for more cores, must not run
// again the tasks that succeeded. So they are left out of the key, unless
// the function itself receives them (it declares them), which makes them
// inputs like any other argument. Parsl keys on every keyword argument of
// the call, these included; this follows starflow's rule that keys come
// from inputs, never from execution options.
var executionOptions = map[string]bool{"walltime": true, "parsl_resource_specification": true}

// keyedKwargs returns the keyword arguments a call's key covers, by name:
// those the function receives, and starflow's own (inputs=, outputs=,
// stdout=, stderr=, given or from the signature's defaults), less the
// app's ignore_for_cache and the execution options.
func keyedKwargs(c *call, ignore []string) []starlark.Tuple {
	if len(c.kwargs) == 0 && len(c.special) == 0 {
		return nil
	}
	kw := make(map[string]starlark.Value, len(c.kwargs)+len(c.special))
	for _, kv := range c.kwargs {
		kw[string(kv[0].(starlark.String))] = kv[1]
	}
	for name, v := range c.special {
		if _, received := kw[name]; !received && executionOptions[name] {
			continue
		}
		kw[name] = v
	}
	out := make([]starlark.Tuple, 0, len(kw))
	for name, v := range kw {
		if !slices.Contains(ignore, name) {
			out = append(out, starlark.Tuple{starlark.String(name), v})
		}
	}
	slices.SortFunc(out, func(x, y starlark.Tuple) int {
		return strings.Compare(string(x[0].(starlark.String)), string(y[0].(starlark.String)))
	})
	return out
}

// producedFiles are the arguments that name files the app writes: their
// names are part of the key, their content is not. It is not an input, and
// it changes when the task runs, so hashing it would make every rerun of a
// task with outputs= miss.
var producedFiles = map[string]bool{"outputs": true, "stdout": true, "stderr": true}

func collectFiles(v starlark.Value, out []*File) []*File {
	switch x := v.(type) {
	case *File:
		return append(out, x)
	case starlark.Tuple:
		for _, e := range x {
			out = collectFiles(e, out)
		}
	case *starlark.List:
		for i := 0; i < x.Len(); i++ {
			out = collectFiles(x.Index(i), out)
		}
	case *starlark.Dict:
		for _, kv := range x.Items() {
			out = collectFiles(kv[0], out)
			out = collectFiles(kv[1], out)
		}
	}
	return out
}

// fileDigests hashes input files once per run. An unchanged file (same
// inode, size, modification and change time) is not read again; the
// change time cannot be set back by hand, so an edit that restores size
// and mtime is still seen.
type fileDigests struct {
	mu    sync.Mutex
	known map[string]fileDigest
}

type fileDigest struct {
	ino, size, mtime, ctime int64
	sum                     [32]byte
}

// missingFile is the digest of a file that does not exist (yet).
var missingFile = sha256.Sum256([]byte("starflow: no such file"))

func (fd *fileDigests) digest(path string) ([32]byte, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return missingFile, nil
	}
	if err != nil {
		return [32]byte{}, fmt.Errorf("hash input %s: %w", path, err)
	}
	st, _ := fi.Sys().(*syscall.Stat_t)
	var id fileDigest
	if st != nil {
		id = fileDigest{ino: int64(st.Ino), size: st.Size, mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano()}
	}
	fd.mu.Lock()
	known, ok := fd.known[path]
	fd.mu.Unlock()
	if ok && st != nil && known.ino == id.ino && known.size == id.size && known.mtime == id.mtime && known.ctime == id.ctime {
		return known.sum, nil
	}
	if fi.IsDir() {
		return sha256.Sum256([]byte("dir:" + path)), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return [32]byte{}, fmt.Errorf("hash input %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, fmt.Errorf("hash input %s: %w", path, err)
	}
	h.Sum(id.sum[:0])
	fd.mu.Lock()
	if fd.known == nil {
		fd.known = map[string]fileDigest{}
	}
	fd.known[path] = id
	fd.mu.Unlock()
	return id.sum, nil
}
