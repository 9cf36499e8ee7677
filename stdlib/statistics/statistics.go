// Package statistics is Python's statistics module for starflow scripts,
// with its exact arithmetic: sums are exact fractions, so mean, variance
// and stdev give the bits Python gives, ints stay ints where Python's do
// (mean([1, 2, 3]) is 2), and the errors are Python's StatisticsError
// messages ("mean requires at least one data point").
//
//	statistics = module(mean, fmean, geometric_mean, harmonic_mean, median,
//	    median_low, median_high, mode, multimode, quantiles,
//	    stdev, pstdev, variance, pvariance)
//
//	def mean(data):
//	def fmean(data, weights=None):
//	def median(data):  def median_low(data):  def median_high(data):
//	def mode(data):    def multimode(data):
//	def quantiles(data, *, n=4, method="exclusive"):
//	def variance(data, xbar=None):  def pvariance(data, mu=None):
//	def stdev(data, xbar=None):     def pstdev(data, mu=None):
//
// Data are ints, floats and bools. Not provided: Decimal and Fraction
// data, harmonic_mean weights, median_grouped, covariance, correlation,
// linear_regression, NormalDist.
package statistics

import (
	"math"
	"math/big"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/crmath"
	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// Module returns a fresh statistics module.
func Module() *starlarkstruct.Module {
	m := starlark.StringDict{}
	for name, fn := range map[string]builtinFunc{
		"mean": mean, "fmean": fmean, "geometric_mean": geometricMean, "harmonic_mean": harmonicMean,
		"median": median("median"), "median_low": median("low"), "median_high": median("high"),
		"mode": mode, "multimode": multimode, "quantiles": quantiles,
		"variance": spread(true, false), "pvariance": spread(false, false),
		"stdev": spread(true, true), "pstdev": spread(false, true),
	} {
		m[name] = starlark.NewBuiltin("statistics."+name, fn)
	}
	return &starlarkstruct.Module{Name: "statistics", Members: m}
}

func statErr(op, msg string) error { return pyerr.New("StatisticsError", op, "%s", msg) }

func dataArg(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) ([]starlark.Value, error) {
	var data starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &data); err != nil {
		return nil, err
	}
	return pyiter.List(b.Name(), data)
}

func mean(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	xs, err := dataArg(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if len(xs) == 0 {
		return nil, statErr(b.Name(), "mean requires at least one data point")
	}
	s, err := sumOf(b.Name(), xs)
	if err != nil {
		return nil, err
	}
	if s.poisoned {
		return starlark.Float(s.nonFinite / float64(s.n)), nil
	}
	return convert(new(big.Rat).Quo(s.sx, big.NewRat(int64(s.n), 1)), s.isFloat), nil
}

// fsum is math.fsum: the float nearest the exact sum.
func fsum(op string, xs []starlark.Value) (float64, error) {
	s, err := sumOf(op, xs)
	if err != nil {
		return 0, err
	}
	if s.poisoned {
		return s.nonFinite, nil
	}
	f, _ := s.sx.Float64()
	return f, nil
}

func fmean(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var data starlark.Value
	var weights starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data", &data, "weights?", &weights); err != nil {
		return nil, err
	}
	xs, err := pyiter.List(b.Name(), data)
	if err != nil {
		return nil, err
	}
	if weights == starlark.None {
		if len(xs) == 0 {
			return nil, statErr(b.Name(), "fmean requires at least one data point")
		}
		total, err := fsum(b.Name(), xs)
		return starlark.Float(total / float64(len(xs))), err
	}
	ws, err := pyiter.List(b.Name(), weights)
	if err != nil {
		return nil, err
	}
	if len(ws) != len(xs) {
		return nil, statErr(b.Name(), "data and weights must be the same length")
	}
	products := make([]starlark.Value, len(xs))
	for i := range xs {
		if products[i], err = starlark.Binary(syntax.STAR, xs[i], ws[i]); err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "%v", err)
		}
	}
	num, err := fsum(b.Name(), products)
	if err != nil {
		return nil, err
	}
	den, err := fsum(b.Name(), ws)
	if err != nil {
		return nil, err
	}
	if den == 0 {
		return nil, statErr(b.Name(), "sum of weights must be non-zero")
	}
	return starlark.Float(num / den), nil
}

func geometricMean(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	xs, err := dataArg(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	logs := make([]starlark.Value, len(xs))
	for i, x := range xs {
		f, ok := starlark.AsFloat(x)
		if !ok || f <= 0 || len(xs) == 0 {
			return nil, statErr(b.Name(), "geometric mean requires a non-empty dataset containing positive numbers")
		}
		logs[i] = starlark.Float(crmath.Log(f))
	}
	if len(xs) == 0 {
		return nil, statErr(b.Name(), "geometric mean requires a non-empty dataset containing positive numbers")
	}
	total, err := fsum(b.Name(), logs)
	return starlark.Float(crmath.Exp(total / float64(len(xs)))), err
}

func harmonicMean(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	xs, err := dataArg(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	const negative = "harmonic mean does not support negative values"
	switch len(xs) {
	case 0:
		return nil, statErr(b.Name(), "harmonic_mean requires at least one data point")
	case 1:
		if f, ok := starlark.AsFloat(xs[0]); !ok {
			return nil, pyerr.New("TypeError", b.Name(), "unsupported type")
		} else if f < 0 {
			return nil, statErr(b.Name(), negative)
		}
		return xs[0], nil
	}
	// Python sums 1/x, each a float, exactly, and divides n by the sum.
	inverses := make([]starlark.Value, len(xs))
	for i, x := range xs {
		f, ok := starlark.AsFloat(x)
		switch {
		case !ok:
			return nil, pyerr.New("TypeError", b.Name(), "can't convert type %s to numerator/denominator", pyerr.TypeRepr(x))
		case f < 0:
			return nil, statErr(b.Name(), negative)
		case f == 0:
			return starlark.MakeInt(0), nil
		}
		inv, err := starlark.Binary(syntax.SLASH, starlark.MakeInt(1), x)
		if err != nil {
			return nil, err
		}
		inverses[i] = inv
	}
	s, err := sumOf(b.Name(), inverses)
	if err != nil {
		return nil, err
	}
	if s.poisoned {
		return starlark.Float(float64(s.n) / s.nonFinite), nil
	}
	if s.sx.Sign() <= 0 {
		return nil, statErr(b.Name(), "Weighted sum must be positive")
	}
	return convert(new(big.Rat).Quo(big.NewRat(int64(len(xs)), 1), s.sx), true), nil
}

// sorted sorts data with Starlark's comparison, as Python's sorted does.
func sorted(op string, xs []starlark.Value) ([]starlark.Value, error) {
	out := append([]starlark.Value(nil), xs...)
	var cmpErr error
	sort.SliceStable(out, func(i, j int) bool {
		less, err := starlark.Compare(syntax.LT, out[i], out[j])
		if err != nil && cmpErr == nil {
			cmpErr = pyerr.New("TypeError", op, "%v", err)
		}
		return less
	})
	return out, cmpErr
}

func median(which string) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		xs, err := dataArg(b, args, kwargs)
		if err != nil {
			return nil, err
		}
		if xs, err = sorted(b.Name(), xs); err != nil {
			return nil, err
		}
		n := len(xs)
		if n == 0 {
			return nil, statErr(b.Name(), "no median for empty data")
		}
		switch {
		case n%2 == 1 || which == "high":
			return xs[n/2], nil
		case which == "low":
			return xs[n/2-1], nil
		}
		sum, err := starlark.Binary(syntax.PLUS, xs[n/2-1], xs[n/2])
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "%v", err)
		}
		return starlark.Binary(syntax.SLASH, sum, starlark.MakeInt(2))
	}
}

// counts counts the hashable data, keeping first-seen order.
func counts(xs []starlark.Value) (*starlark.Dict, int, error) {
	d := new(starlark.Dict)
	most := 0
	for _, x := range xs {
		v, found, err := d.Get(x)
		if err != nil {
			return nil, 0, err
		}
		n := 1
		if found {
			c, _ := starlark.AsInt32(v)
			n = c + 1
		}
		if err := d.SetKey(x, starlark.MakeInt(n)); err != nil {
			return nil, 0, err
		}
		most = max(most, n)
	}
	return d, most, nil
}

func mode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	xs, err := dataArg(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	d, most, err := counts(xs)
	if err != nil {
		return nil, err
	}
	for _, kv := range d.Items() {
		if n, _ := starlark.AsInt32(kv[1]); n == most {
			return kv[0], nil
		}
	}
	return nil, statErr(b.Name(), "no mode for empty data")
}

func multimode(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	xs, err := dataArg(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	d, most, err := counts(xs)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, kv := range d.Items() {
		if n, _ := starlark.AsInt32(kv[1]); n == most {
			out = append(out, kv[0])
		}
	}
	return starlark.NewList(out), nil
}

// spread is variance, pvariance, stdev or pstdev.
func spread(sample, root bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var data starlark.Value
		var center starlark.Value = starlark.None
		centerName := "mu?"
		if sample {
			centerName = "xbar?"
		}
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "data", &data, centerName, &center); err != nil {
			return nil, err
		}
		xs, err := pyiter.List(b.Name(), data)
		if err != nil {
			return nil, err
		}
		name := b.Name()[len("statistics."):]
		if need := map[bool]int{true: 2, false: 1}[sample]; len(xs) < need {
			what := "at least two data points"
			if !sample {
				what = "at least one data point"
			}
			return nil, statErr(b.Name(), name+" requires "+what)
		}
		ss, isFloat, nonFinite, err := squares(b.Name(), xs, center)
		if err != nil {
			return nil, err
		}
		dof := int64(len(xs))
		if sample {
			dof--
		}
		if ss == nil {
			v := nonFinite / float64(dof)
			if root {
				v = math.Sqrt(v)
			}
			return starlark.Float(v), nil
		}
		v := new(big.Rat).Quo(ss, big.NewRat(dof, 1))
		if root {
			return starlark.Float(sqrtFrac(v)), nil
		}
		return convert(v, isFloat), nil
	}
}

// squares is the exact sum of squared deviations: from the exact mean,
// or, as in Python when xbar or mu is given, of (x - c) * (x - c) worked
// out in Python's arithmetic. It is nil, with the float result, when the
// data hold NaN or an infinity.
func squares(op string, xs []starlark.Value, center starlark.Value) (*big.Rat, bool, float64, error) {
	if center == starlark.None {
		s, err := sumOf(op, xs)
		if err != nil || s.poisoned {
			return nil, s.isFloat, s.nonFinite, err
		}
		return s.ss(), s.isFloat, 0, nil
	}
	sq := make([]starlark.Value, len(xs))
	for i, x := range xs {
		d, err := starlark.Binary(syntax.MINUS, x, center)
		if err != nil {
			return nil, false, 0, pyerr.New("TypeError", op, "%v", err)
		}
		if sq[i], err = starlark.Binary(syntax.STAR, d, d); err != nil {
			return nil, false, 0, err
		}
	}
	s, err := sumOf(op, sq)
	if err != nil || s.poisoned {
		return nil, s.isFloat, s.nonFinite, err
	}
	return s.sx, s.isFloat, 0, nil
}

func quantiles(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var data starlark.Value
	n := 4
	method := "exclusive"
	if err := starlark.UnpackArgs(b.Name(), args, nil, "data", &data); err != nil {
		return nil, err
	}
	if err := starlark.UnpackArgs(b.Name(), nil, kwargs, "n?", &n, "method?", &method); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, statErr(b.Name(), "n must be at least 1")
	}
	xs, err := pyiter.List(b.Name(), data)
	if err != nil {
		return nil, err
	}
	if xs, err = sorted(b.Name(), xs); err != nil {
		return nil, err
	}
	ld := len(xs)
	if ld < 2 {
		return nil, statErr(b.Name(), "must have at least two data points")
	}
	// interpolate is (data[j]*(n-delta) + data[j+1]*delta) / n.
	interpolate := func(lo, hi starlark.Value, delta int) (starlark.Value, error) {
		a, err := starlark.Binary(syntax.STAR, lo, starlark.MakeInt(n-delta))
		if err != nil {
			return nil, err
		}
		c, err := starlark.Binary(syntax.STAR, hi, starlark.MakeInt(delta))
		if err != nil {
			return nil, err
		}
		s, err := starlark.Binary(syntax.PLUS, a, c)
		if err != nil {
			return nil, err
		}
		return starlark.Binary(syntax.SLASH, s, starlark.MakeInt(n))
	}
	var out []starlark.Value
	for i := 1; i < n; i++ {
		var v starlark.Value
		switch method {
		case "inclusive":
			m := ld - 1
			j, delta := i*m/n, i*m%n
			v, err = interpolate(xs[j], xs[min(j+1, ld-1)], delta)
		case "exclusive":
			m := ld + 1
			j := min(max(i*m/n, 1), ld-1)
			v, err = interpolate(xs[j-1], xs[j], i*m-j*n)
		default:
			return nil, pyerr.New("ValueError", b.Name(), "Unknown method: %s", pyerr.Repr(method))
		}
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "%v", err)
		}
		out = append(out, v)
	}
	return starlark.NewList(out), nil
}
