// Package random is Python's random module for starflow scripts, drawing
// the same numbers as CPython for the same seed: the Mersenne Twister
// seeded by init_by_array from the seed's 32-bit words, random() from
// two words (a>>5, b>>6), integers by rejection sampling on getrandbits,
// and choice, shuffle, sample, randrange and randint built on that, as in
// CPython 3.11. A ported sweep draws the samples it drew under Python.
//
//	random = module(Random, seed, random, getrandbits, randrange, randint,
//	                choice, choices, shuffle, sample, uniform, gauss,
//	                normalvariate, lognormvariate, expovariate, triangular,
//	                paretovariate, weibullvariate)
//
//	def Random(x=None):         # a generator of its own, with the methods below
//	def seed(a=None, version=2):
//	def random():
//	def getrandbits(k):
//	def randrange(start, stop=None, step=1):
//	def randint(a, b):
//	def choice(seq):
//	def choices(population, weights=None, *, cum_weights=None, k=1):
//	def shuffle(x):
//	def sample(population, k, *, counts=None):
//	def uniform(a, b):
//	def gauss(mu=0.0, sigma=1.0):
//	def normalvariate(mu=0.0, sigma=1.0):
//	def lognormvariate(mu, sigma):
//	def expovariate(lambd=1.0):
//	def triangular(low=0.0, high=1.0, mode=None):
//	def paretovariate(alpha):
//	def weibullvariate(alpha, beta):
//
// The module's functions share one generator, made with the module; the
// numbers that go through math functions (gauss, normalvariate, ...) use
// Go's math library, which may differ from C's in the last bit.
// Not provided: getstate/setstate, SystemRandom, betavariate,
// gammavariate, vonmisesvariate, binomialvariate, randbytes.
package random

import (
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Module returns a fresh random module. Its shared generator is seeded
// with seed, or from the operating system when seed is nil.
func Module(seed *int64) *starlarkstruct.Module {
	var s starlark.Value = starlark.None
	if seed != nil {
		s = starlark.MakeInt64(*seed)
	}
	inst, err := New(s)
	if err != nil {
		// Only an OS without randomness fails here; fall back to a fixed
		// seed rather than leave the module without a generator.
		inst, _ = New(starlark.MakeInt(0))
	}
	members := starlark.StringDict{
		"Random": starlark.NewBuiltin("random.Random", newRandom),
	}
	for _, name := range inst.AttrNames() {
		members[name] = inst.bind("random."+name, methodOf(name))
	}
	return &starlarkstruct.Module{Name: "random", Members: members}
}

func newRandom(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x?", &x); err != nil {
		return nil, err
	}
	return New(x)
}
