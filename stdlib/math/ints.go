package math

import (
	"math/big"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// intArg is an integer argument, refusing floats as Python 3.10+ does.
func intArg(op string, v starlark.Value) (*big.Int, error) {
	switch v := v.(type) {
	case starlark.Int:
		return v.BigInt(), nil
	case starlark.Bool:
		if v {
			return big.NewInt(1), nil
		}
		return big.NewInt(0), nil
	}
	return nil, pyerr.New("TypeError", op, "%s object cannot be interpreted as an integer", pyerr.TypeRepr(v))
}

// smallNonNeg is an argument that must be a non-negative int64.
func smallNonNeg(op, what string, v starlark.Value) (int64, error) {
	n, err := intArg(op, v)
	if err != nil {
		return 0, err
	}
	if n.Sign() < 0 {
		return 0, pyerr.New("ValueError", op, "%s must be a non-negative integer", what)
	}
	if !n.IsInt64() {
		return 0, pyerr.New("OverflowError", op, "%s must not exceed %d", what, int64(1<<63-1))
	}
	return n.Int64(), nil
}

func factorial(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	n, err := intArg(b.Name(), v)
	if err != nil {
		return nil, err
	}
	if n.Sign() < 0 {
		return nil, pyerr.New("ValueError", b.Name(), "factorial() not defined for negative values")
	}
	if !n.IsInt64() {
		return nil, pyerr.New("OverflowError", b.Name(), "factorial() argument should not exceed %d", int64(1<<63-1))
	}
	return starlark.MakeBigInt(new(big.Int).MulRange(1, n.Int64())), nil
}

func comb(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var nv, kv starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &nv, &kv); err != nil {
		return nil, err
	}
	n, err := smallNonNeg(b.Name(), "n", nv)
	if err != nil {
		return nil, err
	}
	k, err := smallNonNeg(b.Name(), "k", kv)
	if err != nil {
		return nil, err
	}
	if k > n {
		return starlark.MakeInt(0), nil
	}
	return starlark.MakeBigInt(new(big.Int).Binomial(n, k)), nil
}

func perm(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var nv starlark.Value
	var kv starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &nv, &kv); err != nil {
		return nil, err
	}
	n, err := smallNonNeg(b.Name(), "n", nv)
	if err != nil {
		return nil, err
	}
	k := n
	if kv != starlark.None {
		if k, err = smallNonNeg(b.Name(), "k", kv); err != nil {
			return nil, err
		}
	}
	if k > n {
		return starlark.MakeInt(0), nil
	}
	if k == 0 {
		return starlark.MakeInt(1), nil
	}
	return starlark.MakeBigInt(new(big.Int).MulRange(n-k+1, n)), nil
}

func gcd(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "gcd() takes no keyword arguments")
	}
	g := new(big.Int)
	for _, a := range args {
		n, err := intArg(b.Name(), a)
		if err != nil {
			return nil, err
		}
		g.GCD(nil, nil, g, new(big.Int).Abs(n))
	}
	return starlark.MakeBigInt(g), nil
}

func lcm(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "lcm() takes no keyword arguments")
	}
	l := big.NewInt(1)
	for _, a := range args {
		n, err := intArg(b.Name(), a)
		if err != nil {
			return nil, err
		}
		n = new(big.Int).Abs(n)
		if n.Sign() == 0 || l.Sign() == 0 {
			l.SetInt64(0)
			continue
		}
		g := new(big.Int).GCD(nil, nil, l, n)
		l.Mul(l.Quo(l, g), n)
	}
	return starlark.MakeBigInt(l), nil
}

func isqrt(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	n, err := intArg(b.Name(), v)
	if err != nil {
		return nil, err
	}
	if n.Sign() < 0 {
		return nil, pyerr.New("ValueError", b.Name(), "isqrt() argument must be nonnegative")
	}
	return starlark.MakeBigInt(new(big.Int).Sqrt(n)), nil
}
