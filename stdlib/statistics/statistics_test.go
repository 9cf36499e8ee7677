package statistics

import (
	"math"
	"math/big"
	"testing"
)

func TestSqrtFrac(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		num, den int64
		want     float64
	}{
		{4, 1, 2},
		{1, 4, 0.5},
		{2, 1, math.Sqrt2},
		{1, 3, 0.5773502691896257},
		{10, 1, 3.1622776601683795},
		{1, 1 << 60, 1.0 / (1 << 30)},
	} {
		if got := sqrtFrac(big.NewRat(tt.num, tt.den)); got != tt.want {
			t.Errorf("sqrt(%d/%d) = %v, want %v", tt.num, tt.den, got, tt.want)
		}
	}
	// A square root well beyond float64's range of exact integers.
	n, _ := new(big.Int).SetString("1000000000000000000000000000000000000000", 10)
	if got := sqrtFrac(new(big.Rat).SetInt(n)); got != 3.162277660168379e+19 {
		t.Errorf("sqrt(1e39) = %v", got)
	}
}

func TestConvert(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r       *big.Rat
		isFloat bool
		want    string
	}{
		{big.NewRat(4, 2), false, "2"},
		{big.NewRat(3, 2), false, "1.5"},
		{big.NewRat(4, 2), true, "2.0"},
		{big.NewRat(1, 3), true, "0.3333333333333333"},
	} {
		if got := convert(tt.r, tt.isFloat).String(); got != tt.want {
			t.Errorf("convert(%v, %v) = %s, want %s", tt.r, tt.isFloat, got, tt.want)
		}
	}
}
