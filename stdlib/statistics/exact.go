package statistics

import (
	"math"
	"math/big"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// exact is a data point as Python's statistics sees it: an exact
// fraction, and whether it came from a float (which makes results
// floats).
type exact struct {
	r       *big.Rat // nil when the float is not finite
	f       float64  // the value, when it is a float
	isFloat bool
}

func toExact(op string, v starlark.Value) (exact, error) {
	switch v := v.(type) {
	case starlark.Int:
		return exact{r: new(big.Rat).SetInt(v.BigInt())}, nil
	case starlark.Bool:
		if v {
			return exact{r: big.NewRat(1, 1)}, nil
		}
		return exact{r: new(big.Rat)}, nil
	case starlark.Float:
		f := float64(v)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return exact{f: f, isFloat: true}, nil
		}
		return exact{r: new(big.Rat).SetFloat64(f), f: f, isFloat: true}, nil
	}
	return exact{}, pyerr.New("TypeError", op, "can't convert type %s to numerator/denominator", pyerr.TypeRepr(v))
}

// sums is Python's _sum and _ss in one pass: the exact sum and sum of
// squares, whether any value was a float, and the float sum of the
// non-finite values (NaN or an infinity poisons the result, as in
// Python).
type sums struct {
	n         int
	sx, sxx   *big.Rat
	isFloat   bool
	nonFinite float64
	poisoned  bool
}

func sumOf(op string, xs []starlark.Value) (sums, error) {
	s := sums{n: len(xs), sx: new(big.Rat), sxx: new(big.Rat)}
	for _, x := range xs {
		e, err := toExact(op, x)
		if err != nil {
			return s, err
		}
		s.isFloat = s.isFloat || e.isFloat
		if e.r == nil {
			s.nonFinite += e.f
			s.poisoned = true
			continue
		}
		s.sx.Add(s.sx, e.r)
		s.sxx.Add(s.sxx, new(big.Rat).Mul(e.r, e.r))
	}
	return s, nil
}

// ss is the exact sum of squared deviations from the mean:
// (n*sxx - sx*sx) / n.
func (s sums) ss() *big.Rat {
	n := new(big.Rat).SetInt64(int64(s.n))
	ss := new(big.Rat).Mul(n, s.sxx)
	ss.Sub(ss, new(big.Rat).Mul(s.sx, s.sx))
	return ss.Quo(ss, n)
}

// convert is Python's _convert: an int when all data were ints and the
// value is whole, else the nearest float.
func convert(r *big.Rat, isFloat bool) starlark.Value {
	if !isFloat && r.IsInt() {
		return starlark.MakeBigInt(new(big.Int).Set(r.Num()))
	}
	f, _ := r.Float64()
	return starlark.Float(f)
}

// sqrtFrac is Python's _float_sqrt_of_frac: the correctly rounded square
// root of n/m, by an integer square root rounded to odd with 109 bits.
func sqrtFrac(r *big.Rat) float64 {
	n, m := r.Num(), r.Denom()
	q := (n.BitLen() - m.BitLen() - 109) / 2
	if n.BitLen()-m.BitLen()-109 < 0 && (n.BitLen()-m.BitLen()-109)%2 != 0 {
		q-- // Python's // floors
	}
	var num, den *big.Int
	if q >= 0 {
		num = new(big.Int).Lsh(isqrtRTO(n, new(big.Int).Lsh(m, uint(2*q))), uint(q))
		den = big.NewInt(1)
	} else {
		num = isqrtRTO(new(big.Int).Lsh(n, uint(-2*q)), m)
		den = new(big.Int).Lsh(big.NewInt(1), uint(-q))
	}
	f, _ := new(big.Rat).SetFrac(num, den).Float64()
	return f
}

// isqrtRTO is the square root of n/m rounded to the nearest integer
// using round-to-odd.
func isqrtRTO(n, m *big.Int) *big.Int {
	a := new(big.Int).Sqrt(new(big.Int).Quo(n, m))
	check := new(big.Int).Mul(a, a)
	check.Mul(check, m)
	if check.Cmp(n) != 0 {
		a.SetBit(a, 0, 1)
	}
	return a
}
