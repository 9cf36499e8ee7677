// Package pynum is Python's arithmetic where Starlark's differs: pow (int
// powers stay exact, a modulus, float powers correctly rounded), round
// (to even, and to n digits exactly as Python's repr-based rounding),
// divmod on floats, and sum (ints exact, floats compensated as in
// CPython 3.12). The builtins and the operator module share it.
package pynum

import (
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/crmath"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// AsInt is v as an int when it is an int or a bool (Python's bools are
// ints).
func AsInt(v starlark.Value) (*big.Int, bool) {
	switch v := v.(type) {
	case starlark.Int:
		return v.BigInt(), true
	case starlark.Bool:
		if v {
			return big.NewInt(1), true
		}
		return big.NewInt(0), true
	}
	return nil, false
}

// AsFloat is v as a float when it is a number; an int too large for a
// float is an OverflowError.
func AsFloat(op string, v starlark.Value) (float64, bool, error) {
	if n, ok := AsInt(v); ok {
		f, _ := new(big.Float).SetInt(n).Float64()
		if math.IsInf(f, 0) {
			return 0, true, pyerr.New("OverflowError", op, "int too large to convert to float")
		}
		return f, true, nil
	}
	if f, ok := v.(starlark.Float); ok {
		return float64(f), true, nil
	}
	return 0, false, nil
}

// maxPowBits bounds an exact int power, where Python would run out of
// memory slowly.
const maxPowBits = 1 << 28

// Pow is pow(x, y, mod) with Python's results and errors; mod is nil
// when absent.
func Pow(op string, x, y, mod starlark.Value) (starlark.Value, error) {
	xi, xInt := AsInt(x)
	yi, yInt := AsInt(y)
	if mod != nil && mod != starlark.None {
		m, mInt := AsInt(mod)
		if !xInt || !yInt || !mInt {
			return nil, pyerr.New("TypeError", op, "pow() 3rd argument not allowed unless all arguments are integers")
		}
		return powMod(op, xi, yi, m)
	}
	if xInt && yInt && yi.Sign() >= 0 {
		if xi.CmpAbs(big.NewInt(1)) > 0 && (!yi.IsInt64() || int64(xi.BitLen())*yi.Int64() > maxPowBits) {
			return nil, pyerr.New("OverflowError", op, "integer power too large: %s ** %s", xi, yi)
		}
		return starlark.MakeBigInt(new(big.Int).Exp(xi, yi, nil)), nil
	}
	xf, ok1, err := AsFloat(op, x)
	if err != nil {
		return nil, err
	}
	yf, ok2, err := AsFloat(op, y)
	if err != nil {
		return nil, err
	}
	if !ok1 || !ok2 {
		return nil, pyerr.New("TypeError", op, "unsupported operand type(s) for ** or pow(): %s and %s",
			pyerr.TypeRepr(x), pyerr.TypeRepr(y))
	}
	return FloatPow(op, xf, yf)
}

// FloatPow is float ** float as Python computes it.
func FloatPow(op string, x, y float64) (starlark.Value, error) {
	switch {
	case x == 0 && y < 0:
		return nil, pyerr.New("ZeroDivisionError", op, "0.0 cannot be raised to a negative power")
	case x < 0 && y != math.Trunc(y) && !math.IsInf(y, 0) && !math.IsNaN(y):
		// Python 3 returns a complex number here; Starlark has none.
		return nil, pyerr.New("ValueError", op, "negative number cannot be raised to a fractional power (the result is complex)")
	}
	r := crmath.Pow(x, y)
	if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
		return nil, pyerr.New("OverflowError", op, "(34, 'Numerical result out of range')")
	}
	return starlark.Float(r), nil
}

func powMod(op string, x, y, m *big.Int) (starlark.Value, error) {
	if m.Sign() == 0 {
		return nil, pyerr.New("ValueError", op, "pow() 3rd argument cannot be 0")
	}
	abs := new(big.Int).Abs(m)
	base := new(big.Int).Mod(x, abs)
	var r *big.Int
	if y.Sign() < 0 {
		inv := new(big.Int).ModInverse(base, abs)
		if inv == nil {
			return nil, pyerr.New("ValueError", op, "base is not invertible for the given modulus")
		}
		r = new(big.Int).Exp(inv, new(big.Int).Neg(y), abs)
	} else {
		r = new(big.Int).Exp(base, y, abs)
	}
	r.Mod(r, abs)
	if m.Sign() < 0 && r.Sign() != 0 {
		r.Add(r, m) // Python's result takes the modulus's sign
	}
	return starlark.MakeBigInt(r), nil
}

// Divmod is divmod(x, y): (x // y, x % y) with Python's float algorithm,
// which keeps the two consistent where floor(x / y) would not.
func Divmod(op string, x, y starlark.Value) (starlark.Value, error) {
	xi, xInt := AsInt(x)
	yi, yInt := AsInt(y)
	if xInt && yInt {
		if yi.Sign() == 0 {
			return nil, pyerr.New("ZeroDivisionError", op, "integer division or modulo by zero")
		}
		q, m := new(big.Int).DivMod(xi, yi, new(big.Int)) // Euclidean: 0 <= m < |y|
		if m.Sign() != 0 && yi.Sign() < 0 {
			q.Sub(q, big.NewInt(1)) // floor, one below the Euclidean quotient
			m.Add(m, yi)
		}
		return starlark.Tuple{starlark.MakeBigInt(q), starlark.MakeBigInt(m)}, nil
	}
	xf, ok1, err := AsFloat(op, x)
	if err != nil {
		return nil, err
	}
	yf, ok2, err := AsFloat(op, y)
	if err != nil {
		return nil, err
	}
	if !ok1 || !ok2 {
		return nil, pyerr.New("TypeError", op, "unsupported operand type(s) for divmod(): %s and %s",
			pyerr.TypeRepr(x), pyerr.TypeRepr(y))
	}
	if yf == 0 {
		return nil, pyerr.New("ZeroDivisionError", op, "float divmod()")
	}
	div, mod := FloatDivmod(xf, yf)
	return starlark.Tuple{starlark.Float(div), starlark.Float(mod)}, nil
}

// FloatDivmod is CPython's float_divmod.
func FloatDivmod(vx, wx float64) (floordiv, mod float64) {
	mod = math.Mod(vx, wx)
	div := (vx - mod) / wx
	if mod != 0 {
		if (wx < 0) != (mod < 0) {
			mod += wx
			div -= 1.0
		}
	} else {
		mod = math.Copysign(0, wx)
	}
	if div != 0 {
		floordiv = math.Floor(div)
		if div-floordiv > 0.5 {
			floordiv += 1.0
		}
	} else {
		floordiv = math.Copysign(0, vx/wx)
	}
	return floordiv, mod
}

// binary applies a Starlark operator, with Python's exception kind.
func binary(op string, tok syntax.Token, x, y starlark.Value) (starlark.Value, error) {
	z, err := starlark.Binary(tok, x, y)
	if err != nil {
		return nil, pyerr.New("TypeError", op, "%v", err)
	}
	return z, nil
}
