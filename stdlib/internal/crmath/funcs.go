package crmath

import "math"

// expDD is e**x for |x.hi| below about 709.
func expDD(x dd) dd {
	k := math.Round(x.hi / ln2.hi)
	r := add(x, neg(mul(dd{k, 0}, ln2)))
	// exp(r) = (1 + expm1(r/1024))**1024, with the small expm1 by Taylor
	// series and the power by ten squarings of 1+s, as s -> 2s + s*s.
	r = dd{r.hi / 1024, r.lo / 1024}
	s, term := r, r
	for n := 2.0; n <= 10; n++ {
		term = div(mul(term, r), dd{n, 0})
		s = add(s, term)
	}
	for i := 0; i < 10; i++ {
		s = add(dd{2 * s.hi, 2 * s.lo}, mul(s, s))
	}
	return scale(add(dd{1, 0}, s), int(k))
}

// logDD is the natural log of a positive finite x.
func logDD(x float64) dd {
	m, e := math.Frexp(x)
	if m < math.Sqrt2/2 {
		m *= 2
		e--
	}
	// log(m) = 2 atanh(s) with s = (m-1)/(m+1), |s| < 0.18; m-1 is exact.
	s := div(dd{m - 1, 0}, twoSum(m, 1))
	s2 := mul(s, s)
	sum, term := s, s
	for n := 3.0; n < 200; n += 2 {
		term = mul(term, s2)
		t := div(term, dd{n, 0})
		sum = add(sum, t)
		if math.Abs(t.hi) < 0x1p-112*math.Abs(sum.hi) {
			break
		}
	}
	return add(dd{2 * sum.hi, 2 * sum.lo}, mul(dd{float64(e), 0}, ln2))
}

// Exp is e**x.
func Exp(x float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return math.Exp(x)
	case x > 709.79:
		return math.Inf(1)
	case x < -708.3:
		return math.Exp(x) // subnormal or zero
	}
	return expDD(dd{x, 0}).round()
}

// Log is the natural logarithm.
func Log(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log(x)
	}
	return logDD(x).round()
}

// Log2 is the base-2 logarithm; exact for powers of two.
func Log2(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log2(x)
	}
	if m, e := math.Frexp(x); m == 0.5 {
		return float64(e - 1)
	}
	return div(logDD(x), ln2).round()
}

// Log10 is the base-10 logarithm; exact for powers of ten.
func Log10(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return math.Log10(x)
	}
	return div(logDD(x), ln10).round()
}

// Pow is x**y. The special cases (zeros, infinities, NaN, a negative x)
// are Go's, which follow C99 as Python's do.
func Pow(x, y float64) float64 {
	switch {
	case x == 1 || y == 0:
		return 1
	case y == 1:
		return x
	case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) || x == 0:
		return math.Pow(x, y)
	}
	sign := 1.0
	if x < 0 {
		if y != math.Trunc(y) {
			return math.NaN()
		}
		if math.Mod(y, 2) != 0 {
			sign = -1
		}
		x = -x
	}
	t := mul(logDD(x), dd{y, 0})
	switch {
	case t.hi > 709.79:
		return sign * math.Inf(1)
	case t.hi < -708.3:
		return sign * math.Pow(x, y)
	}
	return sign * expDD(t).round()
}

// reduce returns r = x - k*pi/2 as a double-double, and k mod 4.
func reduce(x float64) (dd, int) {
	k := math.Round(x / pio2a)
	r := add(dd{x, 0}, neg(twoProd(k, pio2a)))
	r = add(r, neg(twoProd(k, pio2b)))
	r = add(r, neg(twoProd(k, pio2c)))
	r = add(r, neg(twoProd(k, pio2d)))
	return r, int(int64(k) & 3)
}

// sinCos is sin and cos of |r| <= pi/4 by their Taylor series.
func sinCos(r dd) (sin, cos dd) {
	r2 := mul(r, r)
	sin, term := r, r
	for n := 2.0; n < 60; n += 2 {
		term = neg(div(mul(term, r2), dd{n * (n + 1), 0}))
		sin = add(sin, term)
		if math.Abs(term.hi) <= 0x1p-112*math.Abs(sin.hi) {
			break
		}
	}
	cos, term = dd{1, 0}, dd{1, 0}
	for n := 1.0; n < 60; n += 2 {
		term = neg(div(mul(term, r2), dd{n * (n + 1), 0}))
		cos = add(cos, term)
		if math.Abs(term.hi) <= 0x1p-112 {
			break
		}
	}
	return sin, cos
}

// sincosDD is sin and cos of x for |x| < 2**30.
func sincosDD(x float64) (sin, cos dd) {
	r, q := reduce(x)
	s, c := sinCos(r)
	switch q {
	case 0:
		return s, c
	case 1:
		return c, neg(s)
	case 2:
		return neg(s), neg(c)
	}
	return neg(c), s
}

const reduceLimit = 0x1p30

// Sin is the sine of x radians.
func Sin(x float64) float64 {
	if math.Abs(x) >= reduceLimit || math.IsNaN(x) || math.Abs(x) < 0x1p-26 {
		return math.Sin(x) // tiny x: sin(x) rounds to x
	}
	s, _ := sincosDD(x)
	return s.round()
}

// Cos is the cosine of x radians.
func Cos(x float64) float64 {
	if math.Abs(x) >= reduceLimit || math.IsNaN(x) {
		return math.Cos(x)
	}
	_, c := sincosDD(x)
	return c.round()
}

// SinCos is Sin(x), Cos(x), for the price of one reduction.
func SinCos(x float64) (sin, cos float64) {
	if math.Abs(x) >= reduceLimit || math.IsNaN(x) || math.Abs(x) < 0x1p-26 {
		return Sin(x), Cos(x)
	}
	s, c := sincosDD(x)
	return s.round(), c.round()
}

// Tan is the tangent of x radians.
func Tan(x float64) float64 {
	if math.Abs(x) >= reduceLimit || math.IsNaN(x) || math.Abs(x) < 0x1p-26 {
		return math.Tan(x)
	}
	s, c := sincosDD(x)
	return div(s, c).round()
}
