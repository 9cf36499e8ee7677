package random

import (
	"math"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

const syntaxPlus = syntax.PLUS

// sequence is what choice, choices and sample draw from: list, tuple,
// range, str.
func sequence(name string, v starlark.Value) (starlark.Indexable, error) {
	seq, ok := v.(starlark.Indexable)
	if !ok {
		return nil, pyerr.New("TypeError", name, "Population must be a sequence.  For dicts or sets, use sorted(d).")
	}
	return seq, nil
}

func choice(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(name, args, kwargs, "seq", &v); err != nil {
		return nil, err
	}
	seq, err := sequence(name, v)
	if err != nil {
		return nil, err
	}
	if seq.Len() == 0 {
		return nil, pyerr.New("IndexError", name, "Cannot choose from an empty sequence")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return seq.Index(r.mt.belowInt(seq.Len())), nil
}

func shuffle(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x *starlark.List
	if err := starlark.UnpackArgs(name, args, kwargs, "x", &x); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := x.Len() - 1; i >= 1; i-- {
		j := r.mt.belowInt(i + 1)
		xi, xj := x.Index(i), x.Index(j)
		if err := x.SetIndex(i, xj); err != nil {
			return nil, err
		}
		if err := x.SetIndex(j, xi); err != nil {
			return nil, err
		}
	}
	return starlark.None, nil
}

func sample(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pop starlark.Value
	var k int
	var counts starlark.Value = starlark.None
	if err := starlark.UnpackArgs(name, args, kwargs, "population", &pop, "k", &k, "counts?", &counts); err != nil {
		return nil, err
	}
	seq, err := sequence(name, pop)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if counts != starlark.None {
		return r.sampleCounts(name, seq, k, counts)
	}
	picks, err := r.sampleIndexes(name, seq.Len(), k)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(picks))
	for i, j := range picks {
		out[i] = seq.Index(j)
	}
	return starlark.NewList(out), nil
}

// sampleIndexes is the index arithmetic of Python's Random.sample: a pool
// for small populations, a set of picks for large ones, each drawing
// exactly the numbers Python draws.
func (r *Random) sampleIndexes(name string, n, k int) ([]int, error) {
	if k < 0 || k > n {
		return nil, pyerr.New("ValueError", name, "Sample larger than population or is negative")
	}
	result := make([]int, k)
	setsize := 21
	if k > 5 {
		setsize += pow4ceil(3 * k)
	}
	if n <= setsize {
		pool := make([]int, n)
		for i := range pool {
			pool[i] = i
		}
		for i := 0; i < k; i++ {
			j := r.mt.belowInt(n - i)
			result[i] = pool[j]
			pool[j] = pool[n-i-1]
		}
		return result, nil
	}
	selected := make(map[int]bool, k)
	for i := 0; i < k; i++ {
		j := r.mt.belowInt(n)
		for selected[j] {
			j = r.mt.belowInt(n)
		}
		selected[j] = true
		result[i] = j
	}
	return result, nil
}

// pow4ceil is 4 ** ceil(log(x, 4)) for x = 3k, which is never a power of
// four, so the smallest power of four above x is exact.
func pow4ceil(x int) int {
	p := 1
	for p < x {
		p *= 4
	}
	return p
}

// sampleCounts is sample(population, k, counts=...): a sample of
// range(total) mapped back through the cumulative counts.
func (r *Random) sampleCounts(name string, seq starlark.Indexable, k int, counts starlark.Value) (starlark.Value, error) {
	cum, err := accumulate(name, counts)
	if err != nil {
		return nil, err
	}
	if len(cum) != seq.Len() {
		return nil, pyerr.New("ValueError", name, "The number of counts does not match the population")
	}
	if len(cum) == 0 {
		return nil, pyerr.New("IndexError", name, "pop from empty list")
	}
	last, ok := cum[len(cum)-1].(starlark.Int)
	if !ok {
		return nil, pyerr.New("TypeError", name, "Counts must be integers")
	}
	total, ok := last.Int64()
	if !ok || total <= 0 {
		return nil, pyerr.New("ValueError", name, "Total of counts must be greater than zero")
	}
	cum = cum[:len(cum)-1]
	picks, err := r.sampleIndexes(name, int(total), k)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(picks))
	for i, s := range picks {
		j, err := bisectRight(cum, starlark.MakeInt(s), 0, len(cum))
		if err != nil {
			return nil, err
		}
		out[i] = seq.Index(j)
	}
	return starlark.NewList(out), nil
}

// accumulate is itertools.accumulate with +, keeping ints exact.
func accumulate(name string, v starlark.Value) ([]starlark.Value, error) {
	it := pyiter.Iterate(v)
	if it == nil {
		return nil, pyerr.New("TypeError", name, "%s object is not iterable", pyerr.TypeRepr(v))
	}
	defer it.Done()
	var out []starlark.Value
	var x starlark.Value
	for it.Next(&x) {
		if len(out) > 0 {
			sum, err := starlark.Binary(syntax.PLUS, out[len(out)-1], x)
			if err != nil {
				return nil, pyerr.New("TypeError", name, "%v", err)
			}
			x = sum
		}
		out = append(out, x)
	}
	return out, nil
}

// bisectRight is bisect.bisect_right(a, x, lo, hi).
func bisectRight(a []starlark.Value, x starlark.Value, lo, hi int) (int, error) {
	for lo < hi {
		mid := (lo + hi) / 2
		less, err := starlark.Compare(syntax.LT, x, a[mid])
		if err != nil {
			return 0, err
		}
		if less {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo, nil
}

func choices(r *Random, name string, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pop starlark.Value
	var weights, cumWeights starlark.Value = starlark.None, starlark.None
	k := 1
	if err := starlark.UnpackArgs(name, args, kwargs, "population", &pop, "weights?", &weights,
		"cum_weights?", &cumWeights, "k?", &k); err != nil {
		return nil, err
	}
	seq, err := sequence(name, pop)
	if err != nil {
		return nil, err
	}
	n := seq.Len()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]starlark.Value, 0, max(k, 0))
	if cumWeights == starlark.None && weights == starlark.None {
		fn := float64(n)
		for i := 0; i < k; i++ {
			j := int(math.Floor(r.mt.random() * fn))
			if j >= n {
				return nil, pyerr.New("IndexError", name, "list index out of range")
			}
			out = append(out, seq.Index(j))
		}
		return starlark.NewList(out), nil
	}
	var cum []starlark.Value
	switch {
	case cumWeights == starlark.None:
		if cum, err = accumulate(name, weights); err != nil {
			return nil, err
		}
	case weights != starlark.None:
		return nil, pyerr.New("TypeError", name, "Cannot specify both weights and cumulative weights")
	default:
		if cum, err = pyiter.List(name, cumWeights); err != nil {
			return nil, err
		}
	}
	if len(cum) != n {
		return nil, pyerr.New("ValueError", name, "The number of weights does not match the population")
	}
	if n == 0 {
		return nil, pyerr.New("IndexError", name, "list index out of range")
	}
	total, ok := starlark.AsFloat(cum[n-1])
	if !ok {
		return nil, pyerr.New("TypeError", name, "weights: got %s, want int or float", cum[n-1].Type())
	}
	if total <= 0 {
		return nil, pyerr.New("ValueError", name, "Total of weights must be greater than zero")
	}
	if math.IsInf(total, 0) || math.IsNaN(total) {
		return nil, pyerr.New("ValueError", name, "Total of weights must be finite")
	}
	for i := 0; i < k; i++ {
		j, err := bisectRight(cum, starlark.Float(r.mt.random()*total), 0, n-1)
		if err != nil {
			return nil, err
		}
		out = append(out, seq.Index(j))
	}
	return starlark.NewList(out), nil
}
