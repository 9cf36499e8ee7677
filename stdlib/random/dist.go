package random

import (
	"math"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/crmath"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// number is a float argument that also takes an int, as Python's
// arithmetic does.
type number float64

func (n *number) Unpack(v starlark.Value) error {
	f, ok := starlark.AsFloat(v)
	if !ok {
		return pyerr.New("TypeError", "", "got %s, want float or int", v.Type())
	}
	*n = number(f)
	return nil
}

func uniform(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var a, b starlark.Value
	if err := starlark.UnpackArgs(name, args, kwargs, "a", &a, "b", &b); err != nil {
		return nil, err
	}
	// a + (b-a) * random(), in Python's arithmetic: b-a stays exact for ints.
	width, err := starlark.Binary(syntax.MINUS, b, a)
	if err != nil {
		return nil, pyerr.New("TypeError", name, "%v", err)
	}
	if _, ok := starlark.AsFloat(width); !ok {
		return nil, pyerr.New("TypeError", name, "got %s, want float or int", width.Type())
	}
	x := starlark.Float(r.Float())
	scaled, err := starlark.Binary(syntax.STAR, width, x)
	if err != nil {
		return nil, err
	}
	return starlark.Binary(syntax.PLUS, a, scaled)
}

func gauss(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	mu, sigma := number(0), number(1)
	if err := starlark.UnpackArgs(name, args, kwargs, "mu?", &mu, "sigma?", &sigma); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Box-Muller: two normal numbers per pair of draws; the second is
	// kept for the next call, as Python keeps gauss_next.
	var z float64
	if r.gaussNext != nil {
		z, r.gaussNext = *r.gaussNext, nil
	} else {
		x2pi := r.mt.random() * 2 * math.Pi
		g2rad := math.Sqrt(-2.0 * crmath.Log(1.0-r.mt.random()))
		sin, cos := crmath.SinCos(x2pi)
		z = cos * g2rad
		next := sin * g2rad
		r.gaussNext = &next
	}
	return starlark.Float(float64(mu) + z*float64(sigma)), nil
}

// normal is Python's normalvariate (Kinderman and Monahan).
func (r *Random) normal(mu, sigma float64) float64 {
	const magic = 1.7155277699214135 // Python's NV_MAGICCONST, 4*exp(-0.5)/sqrt(2)
	for {
		u1 := r.mt.random()
		u2 := 1.0 - r.mt.random()
		z := magic * (u1 - 0.5) / u2
		if z*z/4.0 <= -crmath.Log(u2) {
			return mu + z*sigma
		}
	}
}

func normalvariate(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	mu, sigma := number(0), number(1)
	if err := starlark.UnpackArgs(name, args, kwargs, "mu?", &mu, "sigma?", &sigma); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return starlark.Float(r.normal(float64(mu), float64(sigma))), nil
}

func lognormvariate(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var mu, sigma number
	if err := starlark.UnpackArgs(name, args, kwargs, "mu", &mu, "sigma", &sigma); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return starlark.Float(crmath.Exp(r.normal(float64(mu), float64(sigma)))), nil
}

func expovariate(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	lambd := number(1)
	if err := starlark.UnpackArgs(name, args, kwargs, "lambd?", &lambd); err != nil {
		return nil, err
	}
	if lambd == 0 {
		return nil, pyerr.New("ZeroDivisionError", name, "float division by zero")
	}
	return starlark.Float(-crmath.Log(1.0-r.Float()) / float64(lambd)), nil
}

func triangular(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	low, high := number(0), number(1)
	var mode starlark.Value = starlark.None
	if err := starlark.UnpackArgs(name, args, kwargs, "low?", &low, "high?", &high, "mode?", &mode); err != nil {
		return nil, err
	}
	u := r.Float()
	c := 0.5
	if mode != starlark.None {
		m, ok := starlark.AsFloat(mode)
		if !ok {
			return nil, pyerr.New("TypeError", name, "mode: got %s, want float or int", mode.Type())
		}
		if high == low {
			return starlark.Float(low), nil
		}
		c = (m - float64(low)) / float64(high-low)
	}
	lo, hi := float64(low), float64(high)
	if u > c {
		u, c = 1.0-u, 1.0-c
		lo, hi = hi, lo
	}
	return starlark.Float(lo + (hi-lo)*math.Sqrt(u*c)), nil
}

func paretovariate(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var alpha number
	if err := starlark.UnpackArgs(name, args, kwargs, "alpha", &alpha); err != nil {
		return nil, err
	}
	u := 1.0 - r.Float()
	return starlark.Float(crmath.Pow(u, -1.0/float64(alpha))), nil
}

func weibullvariate(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var alpha, beta number
	if err := starlark.UnpackArgs(name, args, kwargs, "alpha", &alpha, "beta", &beta); err != nil {
		return nil, err
	}
	u := 1.0 - r.Float()
	return starlark.Float(float64(alpha) * crmath.Pow(-crmath.Log(u), 1.0/float64(beta))), nil
}
