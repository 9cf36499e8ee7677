// Package math is Python's math module for starflow scripts. exp, log,
// log2, log10, pow, sin, cos and tan are correctly rounded (as glibc's
// nearly always are), so results print as they do under CPython; hypot,
// dist and fsum are correctly rounded as Python's are. Domain errors are
// Python's: ValueError("math domain error"), OverflowError("math range
// error"); floor, ceil and trunc return ints.
//
//	math = module(pi, e, tau, inf, nan,
//	    ceil, floor, trunc, fabs, copysign, fmod, remainder, modf, frexp, ldexp,
//	    exp, exp2, expm1, log, log2, log10, log1p, pow, sqrt, cbrt, isqrt,
//	    sin, cos, tan, asin, acos, atan, atan2, sinh, cosh, tanh, asinh, acosh, atanh,
//	    degrees, radians, hypot, dist, fsum, prod, isclose, isfinite, isinf, isnan,
//	    factorial, comb, perm, gcd, lcm, gamma, lgamma, erf, erfc, nextafter, ulp)
//
//	def log(x, base=e):      # x may be an int of any size
//	def isclose(a, b, *, rel_tol=1e-09, abs_tol=0.0):
//	def prod(iterable, *, start=1):
//	def perm(n, k=None):
//	def hypot(*coordinates):
//	def dist(p, q):
//
// The rest take and return what Python's do.
package math

import (
	"math"
	"math/big"

	libmath "go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/starflow-hpc/starflow/stdlib/internal/crmath"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// Module returns a fresh math module.
func Module() *starlarkstruct.Module {
	m := starlark.StringDict{
		"pi":  starlark.Float(math.Pi),
		"e":   starlark.Float(math.E),
		"tau": starlark.Float(2 * math.Pi),
		"inf": starlark.Float(math.Inf(1)),
		"nan": starlark.Float(math.NaN()),
	}
	// These behave as Python's already: no domain errors to add.
	for _, name := range []string{"atan", "tanh", "asinh", "copysign", "fabs", "atan2"} {
		m[name] = libmath.Module.Members[name]
	}
	unary := map[string]func(float64) float64{
		"exp": crmath.Exp, "exp2": math.Exp2, "expm1": math.Expm1, "log1p": math.Log1p,
		"sqrt": math.Sqrt, "cbrt": math.Cbrt,
		"sin": crmath.Sin, "cos": crmath.Cos, "tan": crmath.Tan,
		"asin": math.Asin, "acos": math.Acos, "sinh": math.Sinh, "cosh": math.Cosh,
		"acosh": math.Acosh, "atanh": math.Atanh,
		"gamma": math.Gamma, "lgamma": lgamma, "erf": math.Erf, "erfc": math.Erfc,
		"degrees": func(x float64) float64 { return x * (180.0 / math.Pi) },
		"radians": func(x float64) float64 { return x * (math.Pi / 180.0) },
		"ulp":     ulp,
	}
	for name, fn := range unary {
		m[name] = starlark.NewBuiltin("math."+name, unaryFunc(fn, hasPole(name)))
	}
	for name, fn := range map[string]builtinFunc{
		"floor": rounding(math.Floor), "ceil": rounding(math.Ceil), "trunc": rounding(math.Trunc),
		"log": logBuiltin, "log2": logBase(crmath.Log2), "log10": logBase(crmath.Log10),
		"pow": powBuiltin, "fmod": fmod, "remainder": remainder, "modf": modf, "frexp": frexp,
		"ldexp": ldexp, "nextafter": nextafter,
		"isfinite": classify(func(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }),
		"isinf":    classify(func(x float64) bool { return math.IsInf(x, 0) }),
		"isnan":    classify(math.IsNaN),
		"isclose":  isclose, "fsum": fsum, "prod": prod, "hypot": hypot, "dist": dist,
		"factorial": factorial, "comb": comb, "perm": perm, "gcd": gcd, "lcm": lcm, "isqrt": isqrt,
	} {
		m[name] = starlark.NewBuiltin("math."+name, fn)
	}
	return &starlarkstruct.Module{Name: "math", Members: m}
}

// hasPole says where an infinite result from a finite argument is a
// domain error (a pole) rather than an overflow: at ±1 for atanh, at zero
// and the negative integers for gamma and lgamma.
func hasPole(name string) func(float64) bool {
	switch name {
	case "atanh":
		return func(x float64) bool { return math.Abs(x) == 1 }
	case "gamma", "lgamma":
		return func(x float64) bool { return x <= 0 && x == math.Trunc(x) }
	}
	return func(float64) bool { return false }
}

func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}

func ulp(x float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return math.Abs(x)
	}
	x = math.Abs(x)
	if x == math.MaxFloat64 {
		return x - math.Nextafter(x, 0)
	}
	return math.Nextafter(x, math.Inf(1)) - x
}

// toFloat is Python's conversion of a float argument: ints convert, and
// one too large for a float is an OverflowError.
func toFloat(op string, v starlark.Value) (float64, error) {
	switch v := v.(type) {
	case starlark.Float:
		return float64(v), nil
	case starlark.Int:
		f, _ := starlark.AsFloat(v)
		if math.IsInf(f, 0) {
			return 0, pyerr.New("OverflowError", op, "int too large to convert to float")
		}
		return f, nil
	case starlark.Bool:
		if v {
			return 1, nil
		}
		return 0, nil
	}
	return 0, pyerr.New("TypeError", op, "must be real number, not %s", v.Type())
}

func domainError(op string) error { return pyerr.New("ValueError", op, "math domain error") }
func rangeError(op string) error  { return pyerr.New("OverflowError", op, "math range error") }

// checked applies Python's rules to a libm result: NaN from a non-NaN
// argument is a domain error, infinity from finite arguments a range
// error (or a domain error at a pole).
func checked(op string, r float64, pole bool, args ...float64) (starlark.Value, error) {
	finite, anyNaN := true, false
	for _, a := range args {
		finite = finite && !math.IsInf(a, 0) && !math.IsNaN(a)
		anyNaN = anyNaN || math.IsNaN(a)
	}
	switch {
	case math.IsNaN(r) && !anyNaN:
		return nil, domainError(op)
	case math.IsInf(r, 0) && finite:
		if pole {
			return nil, domainError(op)
		}
		return nil, rangeError(op)
	}
	return starlark.Float(r), nil
}

func unaryFunc(fn func(float64) float64, pole func(float64) bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
			return nil, err
		}
		x, err := toFloat(b.Name(), v)
		if err != nil {
			return nil, err
		}
		return checked(b.Name(), fn(x), pole(x), x)
	}
}

// rounding is floor, ceil or trunc: an int, as in Python 3.
func rounding(fn func(float64) float64) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
			return nil, err
		}
		if i, ok := v.(starlark.Int); ok {
			return i, nil
		}
		x, err := toFloat(b.Name(), v)
		if err != nil {
			return nil, err
		}
		return FloatToInt(b.Name(), fn(x))
	}
}

// FloatToInt is int(x) for an integral x, with Python's errors for
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

// logOf is log(v) for an int or float argument. An int too large for a
// float is split as Python splits it, m * 2**e with m in [0.5, 1), and
// its log is log(m) + log(2.0)*e.
func logOf(op string, v starlark.Value, log func(float64) float64) (float64, error) {
	if i, ok := v.(starlark.Int); ok {
		n := i.BigInt()
		if n.Sign() <= 0 {
			return 0, domainError(op)
		}
		if f, _ := starlark.AsFloat(i); math.IsInf(f, 0) {
			mant := new(big.Float)
			e := new(big.Float).SetInt(n).MantExp(mant)
			m, _ := mant.Float64()
			return log(m) + log(2.0)*float64(e), nil
		}
	}
	x, err := toFloat(op, v)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(x) {
		return x, nil
	}
	if x <= 0 {
		return 0, domainError(op)
	}
	return log(x), nil
}

func logBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, base starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x, &base); err != nil {
		return nil, err
	}
	num, err := logOf(b.Name(), x, crmath.Log)
	if err != nil || base == nil {
		return starlark.Float(num), err
	}
	den, err := logOf(b.Name(), base, crmath.Log)
	if err != nil {
		return nil, err
	}
	if den == 0 {
		return nil, pyerr.New("ZeroDivisionError", b.Name(), "float division by zero")
	}
	return starlark.Float(num / den), nil
}

func logBase(log func(float64) float64) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &x); err != nil {
			return nil, err
		}
		r, err := logOf(b.Name(), x, log)
		return starlark.Float(r), err
	}
}

func classify(fn func(float64) bool) builtinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var v starlark.Value
		if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
			return nil, err
		}
		if _, ok := v.(starlark.Int); ok {
			return starlark.Bool(fn(0)), nil // every int is finite
		}
		x, err := toFloat(b.Name(), v)
		if err != nil {
			return nil, err
		}
		return starlark.Bool(fn(x)), nil
	}
}
