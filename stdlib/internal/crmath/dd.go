// Package crmath computes exp, log, sin, cos, tan and pow correctly
// rounded (to within one case in about 2**50), where Go's math package may
// be a bit off. C's libm (glibc) is correctly rounded in all but rare
// cases, so these give the bits CPython gives: random.gauss draws Python's
// numbers, and math.log prints as it does under Python.
//
// Each function evaluates in double-double arithmetic (about 106 bits)
// and rounds once. Arguments of sin, cos and tan beyond 2**30, and
// results in the subnormal range, fall back to Go's math package.
package crmath

import "math"

// dd is an unevaluated sum hi + lo with |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

// fastTwoSum needs |a| >= |b| (or a == 0).
func fastTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func twoProd(a, b float64) dd {
	p := a * b
	return dd{p, math.FMA(a, b, -p)}
}

func add(x, y dd) dd {
	s := twoSum(x.hi, y.hi)
	t := twoSum(x.lo, y.lo)
	s.lo += t.hi
	s = fastTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return fastTwoSum(s.hi, s.lo)
}

func neg(x dd) dd { return dd{-x.hi, -x.lo} }

func mul(x, y dd) dd {
	p := twoProd(x.hi, y.hi)
	p.lo += x.hi*y.lo + x.lo*y.hi
	return fastTwoSum(p.hi, p.lo)
}

func div(x, y dd) dd {
	q1 := x.hi / y.hi
	r := add(x, neg(mul(dd{q1, 0}, y)))
	q2 := r.hi / y.hi
	r = add(r, neg(mul(dd{q2, 0}, y)))
	q3 := r.hi / y.hi
	return add(fastTwoSum(q1, q2), dd{q3, 0})
}

// scale multiplies by 2**k, exactly unless the result is subnormal.
func scale(x dd, k int) dd {
	return dd{math.Ldexp(x.hi, k), math.Ldexp(x.lo, k)}
}

// round is the float64 nearest x: hi, since add and mul leave the pair
// normalized.
func (x dd) round() float64 { return x.hi + x.lo }

// Constants as sums of float64s, from 120-digit decimal values.
var (
	ln2  = dd{0x1.62e42fefa39efp-1, 0x1.abc9e3b39803fp-56}
	ln10 = dd{0x1.26bb1bbb55516p+1, -0x1.f48ad494ea3e9p-53}
)

// The four parts of pi/2, for argument reduction.
const (
	pio2a = 0x1.921fb54442d18p+0
	pio2b = 0x1.1a62633145c07p-54
	pio2c = -0x1.f1976b7ed8fbcp-110
	pio2d = 0x1.4cf98e804177dp-164
)
