package format

import (
	"fmt"
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// This file holds the operators Starlark lacks and the front end lowers to
// calls: **, "is" and chained comparisons.

const syntaxPercent = syntax.PERCENT

// maxPowBits bounds the size of an integer power, which Python would
// compute however long it took: past it, ** fails rather than hang.
const maxPowBits = 1 << 24

// Pow is Python's x ** y for ints, floats and bools.
func Pow(x, y starlark.Value) (starlark.Value, error) {
	xi, xInt := toInt(x)
	yi, yInt := toInt(y)
	if xInt && yInt && yi.Sign() >= 0 {
		return intPow(xi, yi)
	}
	xf, xok, err := toFloat(x)
	if err != nil {
		return nil, err
	}
	yf, yok, err := toFloat(y)
	if err != nil {
		return nil, err
	}
	if !xok || !yok {
		return nil, errorf("TypeError", "unsupported operand type(s) for ** or pow(): '%s' and '%s'", typeName(x), typeName(y))
	}
	switch {
	case xf == 0 && yf < 0:
		return nil, errorf("ZeroDivisionError", "0.0 cannot be raised to a negative power")
	case xf < 0 && yf != math.Trunc(yf) && !math.IsInf(yf, 0):
		return nil, errorf("ValueError", "negative number cannot be raised to a fractional power")
	}
	r := math.Pow(xf, yf)
	if math.IsInf(r, 0) && !math.IsInf(xf, 0) && !math.IsInf(yf, 0) {
		return nil, errorf("OverflowError", "(34, 'Numerical result out of range')")
	}
	return starlark.Float(r), nil
}

func intPow(x, y starlark.Int) (starlark.Value, error) {
	if a, ok := x.Int64(); ok {
		if b, ok := y.Int64(); ok {
			if r, ok := smallPow(a, b); ok {
				return starlark.MakeInt64(r), nil
			}
		}
	}
	bx, by := x.BigInt(), y.BigInt()
	if bx.CmpAbs(big.NewInt(1)) > 0 && (!by.IsInt64() || int64(bx.BitLen()-1)*by.Int64() > maxPowBits) {
		return nil, errorf("OverflowError", "integer power too large: %s ** %s", x, y)
	}
	return starlark.MakeBigInt(new(big.Int).Exp(bx, by, nil)), nil
}

// smallPow is a**b when it fits in an int64.
func smallPow(a, b int64) (int64, bool) {
	r := int64(1)
	for b > 0 {
		if b&1 == 1 {
			p, ok := mul(r, a)
			if !ok {
				return 0, false
			}
			r = p
		}
		b >>= 1
		if b > 0 {
			sq, ok := mul(a, a)
			if !ok {
				return 0, false
			}
			a = sq
		}
	}
	return r, true
}

// mul is a*b and whether it did not overflow.
func mul(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return c, true
}

func pow(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 2 || len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: want 2 operands", b.Name())
	}
	v, err := Pow(args[0], args[1])
	if err != nil {
		return nil, raised(b, err)
	}
	return v, nil
}

// Is is Python's x is y as far as Starlark values allow: the same object
// for lists, dicts and sets (which can be told apart), equality of the
// same type otherwise (None, True and False are one object each in
// Python, and small ints and interned strings usually are).
func Is(x, y starlark.Value) (bool, error) {
	switch x.(type) {
	case *starlark.List, *starlark.Dict, *starlark.Set:
		return x == y, nil
	}
	if x.Type() != y.Type() {
		return false, nil
	}
	return starlark.Equal(x, y)
}

func is(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 2 || len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: want 2 operands", b.Name())
	}
	ok, err := Is(args[0], args[1])
	return starlark.Bool(ok), err
}

// chain is x0 op1 x1 op2 x2 ...: each operand after x1 is a callable that
// computes it, called only if the comparisons before it held, so that each
// operand is evaluated at most once and the chain stops at the first false
// comparison, as in Python.
func chain(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 3 || len(args)%2 == 0 || len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: want x0, op1, x1, ...", b.Name())
	}
	left := args[0]
	for i := 1; i < len(args); i += 2 {
		op, _ := args[i].(starlark.String)
		right := args[i+1]
		if i > 1 {
			var err error
			if right, err = starlark.Call(thread, right, nil, nil); err != nil {
				return nil, err
			}
		}
		ok, err := compare(string(op), left, right)
		if err != nil || !ok {
			return starlark.False, err
		}
		left = right
	}
	return starlark.True, nil
}

var compareOps = map[string]syntax.Token{
	"<": syntax.LT, "<=": syntax.LE, ">": syntax.GT, ">=": syntax.GE,
	"==": syntax.EQL, "!=": syntax.NEQ,
}

func compare(op string, x, y starlark.Value) (bool, error) {
	switch op {
	case "is":
		return Is(x, y)
	case "is not":
		ok, err := Is(x, y)
		return !ok, err
	case "in", "not in":
		v, err := starlark.Binary(syntax.IN, x, y)
		if err != nil {
			return false, err
		}
		return bool(v.Truth()) == (op == "in"), nil
	}
	tok, ok := compareOps[op]
	if !ok {
		return false, fmt.Errorf("unknown comparison %q", op)
	}
	return starlark.Compare(tok, x, y)
}
