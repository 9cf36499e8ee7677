package pynum

import (
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Round is round(x, ndigits): halves go to the even neighbour, and a
// float is rounded as its exact binary value, so round(2.675, 2) is 2.67
// as in Python. ndigits nil (or None) rounds to an int.
func Round(op string, x, ndigits starlark.Value) (starlark.Value, error) {
	if ndigits == nil || ndigits == starlark.None {
		if n, ok := AsInt(x); ok {
			return starlark.MakeBigInt(n), nil
		}
		f, ok := x.(starlark.Float)
		if !ok {
			return nil, pyerr.New("TypeError", op, "type %s doesn't define __round__ method", x.Type())
		}
		return FloatToInt(op, math.RoundToEven(float64(f)))
	}
	nd, ok := AsInt(ndigits)
	if !ok {
		return nil, pyerr.New("TypeError", op, "%s object cannot be interpreted as an integer", pyerr.TypeRepr(ndigits))
	}
	if n, ok := AsInt(x); ok {
		return roundInt(n, nd), nil
	}
	f, ok := x.(starlark.Float)
	if !ok {
		return nil, pyerr.New("TypeError", op, "type %s doesn't define __round__ method", x.Type())
	}
	return starlark.Float(roundFloat(float64(f), nd)), nil
}

// FloatToInt is int(x) for an integral float, with Python's errors for
// infinities and NaN.
func FloatToInt(op string, x float64) (starlark.Value, error) {
	switch {
	case math.IsInf(x, 0):
		return nil, pyerr.New("OverflowError", op, "cannot convert float infinity to integer")
	case math.IsNaN(x):
		return nil, pyerr.New("ValueError", op, "cannot convert float NaN to integer")
	}
	n, _ := big.NewFloat(x).Int(nil)
	return starlark.MakeBigInt(n), nil
}

func pow10(n int64) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(n), nil) }

// roundHalfEven rounds a rational to the nearest integer, ties to even.
func roundHalfEven(r *big.Rat) *big.Int {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int)) // floor, as Denom > 0
	twice := new(big.Int).Lsh(m, 1)
	switch c := twice.Cmp(r.Denom()); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		q.Add(q, big.NewInt(1))
	}
	return q
}

func roundInt(n, nd *big.Int) starlark.Value {
	if nd.Sign() >= 0 {
		return starlark.MakeBigInt(n)
	}
	if nd.CmpAbs(big.NewInt(int64(n.BitLen())+2)) > 0 {
		return starlark.MakeInt(0) // 10**-nd is beyond n: rounds to 0
	}
	p := pow10(-nd.Int64())
	q := roundHalfEven(new(big.Rat).SetFrac(n, p))
	return starlark.MakeBigInt(q.Mul(q, p))
}

func roundFloat(x float64, nd *big.Int) float64 {
	if math.IsInf(x, 0) || math.IsNaN(x) || x == 0 {
		return x
	}
	switch {
	case nd.Cmp(big.NewInt(330)) > 0:
		return x // more digits than a float has
	case nd.Cmp(big.NewInt(-330)) < 0:
		return math.Copysign(0, x)
	}
	d := nd.Int64()
	r := new(big.Rat).SetFloat64(x)
	if d >= 0 {
		r.Mul(r, new(big.Rat).SetInt(pow10(d)))
	} else {
		r.Quo(r, new(big.Rat).SetInt(pow10(-d)))
	}
	q := new(big.Rat).SetInt(roundHalfEven(r))
	if d >= 0 {
		q.Quo(q, new(big.Rat).SetInt(pow10(d)))
	} else {
		q.Mul(q, new(big.Rat).SetInt(pow10(-d)))
	}
	f, _ := q.Float64()
	if f == 0 || math.IsInf(f, 0) {
		if math.IsInf(f, 0) {
			return f // Python raises OverflowError here; rare enough to let through
		}
		return math.Copysign(0, x)
	}
	return f
}

// Sum is sum(iterable, start) as CPython 3.12 computes it: ints (and
// bools) exactly, then floats with Neumaier's compensated summation (so
// sum([0.1] * 10) is 1.0), anything else with +.
func Sum(op string, iterable, start starlark.Value) (starlark.Value, error) {
	switch start.(type) {
	case starlark.String:
		return nil, pyerr.New("TypeError", op, "sum() can't sum strings [use ''.join(seq) instead]")
	case starlark.Bytes:
		return nil, pyerr.New("TypeError", op, "sum() can't sum bytes [use b''.join(seq) instead]")
	}
	it := pyiter.Iterate(iterable)
	if it == nil {
		return nil, pyerr.New("TypeError", op, "%s object is not iterable", pyerr.TypeRepr(iterable))
	}
	defer it.Done()
	acc := start
	var x starlark.Value
	if n, ok := AsInt(acc); ok {
		total := new(big.Int).Set(n)
		acc = nil
		for it.Next(&x) {
			if xi, ok := AsInt(x); ok {
				total.Add(total, xi)
				continue
			}
			var err error
			if acc, err = binary(op, syntax.PLUS, starlark.MakeBigInt(total), x); err != nil {
				return nil, err
			}
			break
		}
		if acc == nil {
			return starlark.MakeBigInt(total), nil
		}
	}
	if f, ok := acc.(starlark.Float); ok {
		sum, c := float64(f), 0.0
		acc = nil
		for it.Next(&x) {
			if xf, ok := x.(starlark.Float); ok {
				v := float64(xf)
				t := sum + v
				if math.Abs(sum) >= math.Abs(v) {
					c += (sum - t) + v
				} else {
					c += (v - t) + sum
				}
				sum = t
				continue
			}
			if xi, ok := AsInt(x); ok && xi.IsInt64() {
				sum += float64(xi.Int64())
				continue
			}
			var err error
			if acc, err = binary(op, syntax.PLUS, starlark.Float(sum), x); err != nil {
				return nil, err
			}
			break
		}
		if acc == nil {
			if c != 0 && !math.IsInf(c, 0) && !math.IsNaN(c) {
				sum += c
			}
			return starlark.Float(sum), nil
		}
	}
	for it.Next(&x) {
		var err error
		if acc, err = binary(op, syntax.PLUS, acc, x); err != nil {
			return nil, err
		}
	}
	return acc, nil
}
