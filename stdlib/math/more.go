package math

import (
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/crmath"
	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// binaryFloats unpacks two float arguments.
func binaryFloats(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (float64, float64, error) {
	var xv, yv starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &xv, &yv); err != nil {
		return 0, 0, err
	}
	x, err := toFloat(b.Name(), xv)
	if err != nil {
		return 0, 0, err
	}
	y, err := toFloat(b.Name(), yv)
	return x, y, err
}

func powBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := binaryFloats(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if x == 0 && y < 0 {
		return nil, domainError(b.Name())
	}
	return checked(b.Name(), crmath.Pow(x, y), false, x, y)
}

func fmod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := binaryFloats(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return checked(b.Name(), math.Mod(x, y), false, x, y)
}

func remainder(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := binaryFloats(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return checked(b.Name(), math.Remainder(x, y), false, x, y)
}

func nextafter(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := binaryFloats(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.Float(math.Nextafter(x, y)), nil
}

func modf(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	x, err := toFloat(b.Name(), v)
	if err != nil {
		return nil, err
	}
	if math.IsInf(x, 0) {
		return starlark.Tuple{starlark.Float(math.Copysign(0, x)), starlark.Float(x)}, nil
	}
	i, frac := math.Modf(x)
	return starlark.Tuple{starlark.Float(frac), starlark.Float(i)}, nil
}

func frexp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	x, err := toFloat(b.Name(), v)
	if err != nil {
		return nil, err
	}
	m, e := math.Frexp(x)
	return starlark.Tuple{starlark.Float(m), starlark.MakeInt(e)}, nil
}

func ldexp(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	var i int
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &v, &i); err != nil {
		return nil, err
	}
	x, err := toFloat(b.Name(), v)
	if err != nil {
		return nil, err
	}
	return checked(b.Name(), math.Ldexp(x, i), false, x)
}

func isclose(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, bv starlark.Value
	relTol, absTol := starlark.Value(starlark.Float(1e-9)), starlark.Value(starlark.Float(0))
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "b", &bv, "rel_tol?", &relTol, "abs_tol?", &absTol); err != nil {
		return nil, err
	}
	var nums [4]float64
	for i, v := range []starlark.Value{av, bv, relTol, absTol} {
		f, err := toFloat(b.Name(), v)
		if err != nil {
			return nil, err
		}
		nums[i] = f
	}
	x, y, rel, abs := nums[0], nums[1], nums[2], nums[3]
	if rel < 0 || abs < 0 {
		return nil, pyerr.New("ValueError", b.Name(), "tolerances must be non-negative")
	}
	if x == y {
		return starlark.True, nil
	}
	if math.IsInf(x, 0) || math.IsInf(y, 0) {
		return starlark.False, nil
	}
	diff := math.Abs(y - x)
	return starlark.Bool(diff <= math.Abs(rel*y) || diff <= math.Abs(rel*x) || diff <= abs), nil
}

// floats lists an iterable's numbers as floats.
func floats(op string, v starlark.Value) ([]float64, error) {
	it := pyiter.Iterate(v)
	if it == nil {
		return nil, pyerr.New("TypeError", op, "%s object is not iterable", pyerr.TypeRepr(v))
	}
	defer it.Done()
	var out []float64
	var x starlark.Value
	for it.Next(&x) {
		f, err := toFloat(op, x)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// exactPrec holds any sum of float64 squares without rounding.
const exactPrec = 4400

func fsum(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &seq); err != nil {
		return nil, err
	}
	xs, err := floats(b.Name(), seq)
	if err != nil {
		return nil, err
	}
	sum := new(big.Float).SetPrec(exactPrec)
	posInf, negInf, nan := false, false, false
	for _, x := range xs {
		switch {
		case math.IsNaN(x):
			nan = true
		case math.IsInf(x, 1):
			posInf = true
		case math.IsInf(x, -1):
			negInf = true
		default:
			sum.Add(sum, new(big.Float).SetFloat64(x))
		}
	}
	switch {
	case posInf && negInf:
		return nil, pyerr.New("ValueError", b.Name(), "-inf + inf in fsum")
	case nan:
		return starlark.Float(math.NaN()), nil
	case posInf:
		return starlark.Float(math.Inf(1)), nil
	case negInf:
		return starlark.Float(math.Inf(-1)), nil
	}
	f, _ := sum.Float64() // nearest, ties to even, as Python's fsum
	if math.IsInf(f, 0) {
		return nil, pyerr.New("OverflowError", b.Name(), "intermediate overflow in fsum")
	}
	return starlark.Float(f), nil
}

func prod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	var start starlark.Value = starlark.MakeInt(1)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &seq, "start?", &start); err != nil {
		return nil, err
	}
	acc := start
	it := pyiter.Iterate(seq)
	if it == nil {
		return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(seq))
	}
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		p, err := starlark.Binary(syntax.STAR, acc, x)
		if err != nil {
			return nil, pyerr.New("TypeError", b.Name(), "%v", err)
		}
		acc = p
	}
	return acc, nil
}

// norm is Python's vector_norm: the correctly rounded square root of the
// exact sum of squares; an infinity wins over a NaN.
func norm(xs []float64) float64 {
	sum := new(big.Float).SetPrec(exactPrec)
	nan := false
	for _, x := range xs {
		switch {
		case math.IsInf(x, 0):
			return math.Inf(1)
		case math.IsNaN(x):
			nan = true
		default:
			f := new(big.Float).SetPrec(exactPrec).SetFloat64(x)
			sum.Add(sum, f.Mul(f, f))
		}
	}
	if nan {
		return math.NaN()
	}
	root := new(big.Float).SetPrec(256).Sqrt(sum.SetPrec(256))
	f, _ := root.Float64()
	return f
}

func hypot(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "hypot() takes no keyword arguments")
	}
	xs, err := floats(b.Name(), args)
	if err != nil {
		return nil, err
	}
	return starlark.Float(norm(xs)), nil
}

func dist(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p, q starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &p, &q); err != nil {
		return nil, err
	}
	ps, err := floats(b.Name(), p)
	if err != nil {
		return nil, err
	}
	qs, err := floats(b.Name(), q)
	if err != nil {
		return nil, err
	}
	if len(ps) != len(qs) {
		return nil, pyerr.New("ValueError", b.Name(), "both points must have the same number of dimensions")
	}
	diffs := make([]float64, len(ps))
	for i := range ps {
		diffs[i] = ps[i] - qs[i]
	}
	return starlark.Float(norm(diffs)), nil
}
