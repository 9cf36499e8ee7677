package itertools

import (
	"math"
	"math/big"

	"go.starlark.net/starlark"
)

// tupleOf is the tuple of pool's items at indices.
func tupleOf(pool []starlark.Value, indices []int) starlark.Tuple {
	t := make(starlark.Tuple, len(indices))
	for i, j := range indices {
		t[i] = pool[j]
	}
	return t
}

// length is a count as Len reports it: -1 when it does not fit an int32.
func length(n *big.Int) int {
	if n.IsInt64() && n.Int64() <= math.MaxInt32 {
		return int(n.Int64())
	}
	return -1
}

// product is product(*pools): an odometer over the pools' indices, the
// last one turning fastest.
func product(pools [][]starlark.Value) *lazy {
	total := big.NewInt(1)
	for _, p := range pools {
		total.Mul(total, big.NewInt(int64(len(p))))
	}
	return &lazy{name: "product", n: length(total), iter: func() starlark.Iterator {
		idx := make([]int, len(pools))
		started, finished := false, total.Sign() == 0
		return &funcIterator{next: func() (starlark.Value, bool) {
			if finished {
				return nil, false
			}
			if started {
				i := len(pools) - 1
				for ; i >= 0; i-- {
					if idx[i]++; idx[i] < len(pools[i]) {
						break
					}
					idx[i] = 0
				}
				if i < 0 {
					finished = true
					return nil, false
				}
			}
			started = true
			t := make(starlark.Tuple, len(pools))
			for i, j := range idx {
				t[i] = pools[i][j]
			}
			return t, true
		}}
	}}
}

// combinations is combinations(pool, r), in Python's order.
func combinations(pool []starlark.Value, r int) *lazy {
	n := len(pool)
	count := new(big.Int)
	if r <= n {
		count.Binomial(int64(n), int64(r))
	}
	return &lazy{name: "combinations", n: length(count), iter: func() starlark.Iterator {
		idx := make([]int, r)
		for i := range idx {
			idx[i] = i
		}
		started, finished := false, r > n
		return &funcIterator{next: func() (starlark.Value, bool) {
			if finished {
				return nil, false
			}
			if started {
				i := r - 1
				for i >= 0 && idx[i] == i+n-r {
					i--
				}
				if i < 0 {
					finished = true
					return nil, false
				}
				idx[i]++
				for j := i + 1; j < r; j++ {
					idx[j] = idx[j-1] + 1
				}
			}
			started = true
			return tupleOf(pool, idx), true
		}}
	}}
}

// combinationsWithReplacement is combinations_with_replacement(pool, r).
func combinationsWithReplacement(pool []starlark.Value, r int) *lazy {
	n := len(pool)
	count := new(big.Int) // C(n+r-1, r), and 1 for r = 0
	switch {
	case r == 0:
		count.SetInt64(1)
	case n > 0:
		count.Binomial(int64(n+r-1), int64(r))
	}
	return &lazy{name: "combinations_with_replacement", n: length(count), iter: func() starlark.Iterator {
		idx := make([]int, r)
		started, finished := false, n == 0 && r > 0
		return &funcIterator{next: func() (starlark.Value, bool) {
			if finished {
				return nil, false
			}
			if started {
				i := r - 1
				for i >= 0 && idx[i] == n-1 {
					i--
				}
				if i < 0 {
					finished = true
					return nil, false
				}
				v := idx[i] + 1
				for j := i; j < r; j++ {
					idx[j] = v
				}
			}
			started = true
			return tupleOf(pool, idx), true
		}}
	}}
}

// permutations is permutations(pool, r), in Python's order (the cycles
// algorithm of its documentation).
func permutations(pool []starlark.Value, r int) *lazy {
	n := len(pool)
	count := new(big.Int)
	if r <= n {
		count.MulRange(int64(n-r+1), int64(n))
		if r == 0 {
			count.SetInt64(1)
		}
	}
	return &lazy{name: "permutations", n: length(count), iter: func() starlark.Iterator {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		cycles := make([]int, r)
		for i := range cycles {
			cycles[i] = n - i
		}
		started, finished := false, r > n
		return &funcIterator{next: func() (starlark.Value, bool) {
			if finished {
				return nil, false
			}
			if !started {
				started = true
				return tupleOf(pool, idx[:r]), true
			}
			for i := r - 1; i >= 0; i-- {
				cycles[i]--
				if cycles[i] == 0 {
					first := idx[i]
					copy(idx[i:], idx[i+1:])
					idx[n-1] = first
					cycles[i] = n - i
					continue
				}
				j := cycles[i]
				idx[i], idx[n-j] = idx[n-j], idx[i]
				return tupleOf(pool, idx[:r]), true
			}
			finished = true
			return nil, false
		}}
	}}
}
