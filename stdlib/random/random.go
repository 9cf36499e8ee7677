package random

import (
	crand "crypto/rand"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"sync"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Random is a random number generator, as Python's random.Random(seed)
// returns it. Its methods lock it, so apps running at once can share one.
type Random struct {
	mu        sync.Mutex
	mt        mt
	gaussNext *float64 // gauss makes two numbers and keeps one for the next call
}

var _ starlark.HasAttrs = (*Random)(nil)

// New returns a generator seeded as Python's Random(seed) would be.
func New(seed starlark.Value) (*Random, error) {
	r := new(Random)
	if err := r.Seed(seed); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Random) String() string        { return fmt.Sprintf("<random.Random object at %p>", r) }
func (r *Random) Type() string          { return "Random" }
func (r *Random) Freeze()               {} // its state is not a value: a frozen generator still draws
func (r *Random) Truth() starlark.Bool  { return true }
func (r *Random) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: Random") }

func (r *Random) AttrNames() []string {
	return []string{"choice", "choices", "expovariate", "gauss", "getrandbits", "lognormvariate",
		"normalvariate", "paretovariate", "randint", "random", "randrange", "sample", "seed",
		"shuffle", "triangular", "uniform", "weibullvariate"}
}

func (r *Random) Attr(name string) (starlark.Value, error) {
	if m := methodOf(name); m != nil {
		return r.bind(name, m), nil
	}
	return nil, nil
}

// bind makes the builtin for one method of r; the module's functions are
// these builtins on the module's hidden generator.
func (r *Random) bind(name string, m methodFunc) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return m(r, b.Name(), args, kwargs)
	})
}

type methodFunc func(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

func methodOf(name string) methodFunc {
	switch name {
	case "seed":
		return seedMethod
	case "random":
		return randomMethod
	case "getrandbits":
		return getrandbits
	case "randrange":
		return randrange
	case "randint":
		return randint
	case "choice":
		return choice
	case "choices":
		return choices
	case "shuffle":
		return shuffle
	case "sample":
		return sample
	case "uniform":
		return uniform
	case "gauss":
		return gauss
	case "normalvariate":
		return normalvariate
	case "lognormvariate":
		return lognormvariate
	case "expovariate":
		return expovariate
	case "triangular":
		return triangular
	case "paretovariate":
		return paretovariate
	case "weibullvariate":
		return weibullvariate
	}
	return nil
}

// Seed reseeds r the way Python's seed(a) does (version 2): an int by
// its absolute value, a str or bytes by its bytes and their SHA-512, a
// float by its hash, None from the operating system.
func (r *Random) Seed(a starlark.Value) error {
	var n *big.Int
	switch a := a.(type) {
	case starlark.NoneType:
		var buf [624 * 4]byte
		if _, err := crand.Read(buf[:]); err != nil {
			return fmt.Errorf("random.seed: %w", err)
		}
		key := make([]uint32, 624)
		for i := range key {
			key[i] = binary.LittleEndian.Uint32(buf[4*i:])
		}
		r.reset(key)
		return nil
	case starlark.Int:
		n = new(big.Int).Abs(a.BigInt())
	case starlark.Bool:
		n = big.NewInt(0)
		if a {
			n.SetInt64(1)
		}
	case starlark.Float:
		if math.IsNaN(float64(a)) {
			return pyerr.New("TypeError", "random.seed", "a NaN seed draws a different sequence in every Python process: use an int")
		}
		n = new(big.Int).SetUint64(uint64(floatHash(float64(a)))) // C's (size_t)hash
	case starlark.String:
		n = bytesSeed([]byte(a))
	case starlark.Bytes:
		n = bytesSeed([]byte(a))
	default:
		return pyerr.New("TypeError", "random.seed", "The only supported seed types are: None,\nint, float, str, bytes, and bytearray.")
	}
	r.reset(keyOf(n))
	return nil
}

func (r *Random) reset(key []uint32) {
	r.mt.seedArray(key)
	r.gaussNext = nil
}

// bytesSeed is int.from_bytes(a + sha512(a).digest()), big-endian.
func bytesSeed(a []byte) *big.Int {
	sum := sha512.Sum512(a)
	return new(big.Int).SetBytes(append(append([]byte(nil), a...), sum[:]...))
}

// Float draws random(), for the module's users in Go.
func (r *Random) Float() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.mt.random()
}

func seedMethod(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a starlark.Value = starlark.None
	version := 2
	if err := starlark.UnpackArgs(name, args, kwargs, "a?", &a, "version?", &version); err != nil {
		return nil, err
	}
	if version != 2 {
		return nil, pyerr.New("ValueError", name, "only version=2 seeding is supported")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return starlark.None, r.Seed(a)
}

func randomMethod(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(name, args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.Float(r.Float()), nil
}

func getrandbits(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var k int
	if err := starlark.UnpackPositionalArgs(name, args, kwargs, 1, &k); err != nil {
		return nil, err
	}
	if k < 0 {
		return nil, pyerr.New("ValueError", name, "number of bits must be non-negative")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return starlark.MakeBigInt(r.mt.bits(k)), nil
}

// index converts a randrange argument: an int, or (as Python 3.11 still
// allows) a float with an integral value.
func index(name, which string, v starlark.Value) (*big.Int, error) {
	switch v := v.(type) {
	case starlark.Int:
		return v.BigInt(), nil
	case starlark.Float:
		f := float64(v)
		if f == math.Trunc(f) && !math.IsInf(f, 0) {
			n, _ := big.NewFloat(f).Int(nil)
			return n, nil
		}
		return nil, pyerr.New("ValueError", name, "non-integer %s for randrange()", which)
	}
	return nil, pyerr.New("TypeError", name, "%s: got %s, want int", which, v.Type())
}

func randrange(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var start, stop starlark.Value
	var step starlark.Value = starlark.MakeInt(1)
	stop = starlark.None
	if err := starlark.UnpackArgs(name, args, kwargs, "start", &start, "stop?", &stop, "step?", &step); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.randrange(name, start, stop, step)
	if err != nil {
		return nil, err
	}
	return starlark.MakeBigInt(n), nil
}

// randrange is Python 3.11's Random.randrange, including its messages.
func (r *Random) randrange(name string, start, stop, step starlark.Value) (*big.Int, error) {
	istart, err := index(name, "arg 1", start)
	if err != nil {
		return nil, err
	}
	if stop == starlark.None {
		if s, ok := step.(starlark.Int); !ok || s.BigInt().Cmp(big.NewInt(1)) != 0 {
			return nil, pyerr.New("TypeError", name, "Missing a non-None stop argument")
		}
		if istart.Sign() > 0 {
			return r.mt.below(istart), nil
		}
		return nil, pyerr.New("ValueError", name, "empty range for randrange()")
	}
	istop, err := index(name, "stop", stop)
	if err != nil {
		return nil, err
	}
	istep, err := index(name, "step", step)
	if err != nil {
		return nil, err
	}
	width := new(big.Int).Sub(istop, istart)
	one := big.NewInt(1)
	if istep.Cmp(one) == 0 {
		if width.Sign() > 0 {
			return width.Add(istart, r.mt.below(width)), nil
		}
		return nil, pyerr.New("ValueError", name, "empty range for randrange() (%s, %s, %s)", istart, istop, width)
	}
	var n *big.Int
	switch istep.Sign() {
	case 1:
		n = floorDiv(new(big.Int).Sub(new(big.Int).Add(width, istep), one), istep)
	case -1:
		n = floorDiv(new(big.Int).Add(new(big.Int).Add(width, istep), one), istep)
	default:
		return nil, pyerr.New("ValueError", name, "zero step for randrange()")
	}
	if n.Sign() <= 0 {
		return nil, pyerr.New("ValueError", name, "empty range for randrange()")
	}
	off := new(big.Int).Mul(istep, r.mt.below(n))
	return off.Add(istart, off), nil
}

// floorDiv is Python's // on ints.
func floorDiv(a, b *big.Int) *big.Int {
	q, m := new(big.Int).DivMod(a, b, new(big.Int)) // Euclidean: m >= 0
	if m.Sign() != 0 && b.Sign() < 0 {
		q.Sub(q, big.NewInt(1))
	}
	return q
}

func randint(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, b starlark.Value
	if err := starlark.UnpackArgs(name, args, kwargs, "a", &a, "b", &b); err != nil {
		return nil, err
	}
	bPlus1, err := starlark.Binary(syntaxPlus, b, starlark.MakeInt(1))
	if err != nil {
		return nil, pyerr.New("TypeError", name, "b: got %s, want int", b.Type())
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n, err := r.randrange(name, a, bPlus1, starlark.MakeInt(1))
	if err != nil {
		return nil, err
	}
	return starlark.MakeBigInt(n), nil
}
