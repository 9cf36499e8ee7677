package itertools

import (
	"testing"

	"go.starlark.net/starlark"
)

func ints(n int) []starlark.Value {
	out := make([]starlark.Value, n)
	for i := range out {
		out[i] = starlark.MakeInt(i)
	}
	return out
}

func yielded(l *lazy) int {
	it := l.Iterate()
	defer it.Done()
	n := 0
	var x starlark.Value
	for it.Next(&x) {
		n++
	}
	return n
}

// TestLengths checks that each combinatoric iterable yields as many
// items as its Len says, which is what Python's formulas give.
func TestLengths(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		l    *lazy
		want int
	}{
		{"product 3x4", product([][]starlark.Value{ints(3), ints(4)}), 12},
		{"product empty pool", product([][]starlark.Value{ints(3), nil}), 0},
		{"product no pools", product(nil), 1},
		{"combinations(5, 2)", combinations(ints(5), 2), 10},
		{"combinations(5, 0)", combinations(ints(5), 0), 1},
		{"combinations(2, 3)", combinations(ints(2), 3), 0},
		{"cwr(3, 2)", combinationsWithReplacement(ints(3), 2), 6},
		{"cwr(0, 1)", combinationsWithReplacement(nil, 1), 0},
		{"cwr(0, 0)", combinationsWithReplacement(nil, 0), 1},
		{"permutations(4, 2)", permutations(ints(4), 2), 12},
		{"permutations(4, 4)", permutations(ints(4), 4), 24},
		{"permutations(3, 0)", permutations(ints(3), 0), 1},
		{"permutations(2, 3)", permutations(ints(2), 3), 0},
	} {
		if tt.l.Len() != tt.want {
			t.Errorf("%s: Len() = %d, want %d", tt.name, tt.l.Len(), tt.want)
		}
		if n := yielded(tt.l); n != tt.want {
			t.Errorf("%s: yielded %d, want %d", tt.name, n, tt.want)
		}
		if n := yielded(tt.l); n != tt.want {
			t.Errorf("%s: second iteration yielded %d, want %d", tt.name, n, tt.want)
		}
	}
	huge := product([][]starlark.Value{ints(1000), ints(1000), ints(1000), ints(1000)})
	if huge.Len() != -1 {
		t.Errorf("a product of 10**12 reports Len %d, want -1", huge.Len())
	}
}
