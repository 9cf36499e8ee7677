package crmath

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCorrectlyRounded checks every case in testdata/cases.txt, whose
// results gen.py computed in 60-digit decimal arithmetic.
func TestCorrectlyRounded(t *testing.T) {
	t.Parallel()
	f, err := os.Open("testdata/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	funcs := map[string]func(float64) float64{
		"exp": Exp, "log": Log, "log2": Log2, "log10": Log10, "sin": Sin, "cos": Cos, "tan": Tan,
	}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		nums := make([]float64, len(fields)-1)
		for i, s := range fields[1:] {
			if nums[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		var got float64
		if fields[0] == "pow" {
			got = Pow(nums[0], nums[1])
		} else {
			got = funcs[fields[0]](nums[0])
		}
		if want := nums[len(nums)-1]; got != want {
			t.Errorf("%s%v = %v, want %v", fields[0], nums[:len(nums)-1], got, want)
		}
		n++
	}
	if n < 500 {
		t.Fatalf("only %d cases", n)
	}
}

func TestSpecialCases(t *testing.T) {
	t.Parallel()
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		name      string
		got, want float64
	}{
		{"exp(0)", Exp(0), 1},
		{"exp(1)", Exp(1), math.E},
		{"exp(800)", Exp(800), inf},
		{"exp(-inf)", Exp(-inf), 0},
		{"log(1)", Log(1), 0},
		{"log(e)", Log(math.E), 1},
		{"log(0)", Log(0), -inf},
		{"log(inf)", Log(inf), inf},
		{"log2(1024)", Log2(1024), 10},
		{"log2(0.125)", Log2(0.125), -3},
		{"log10(1000)", Log10(1000), 3},
		{"log10(1e-5)", Log10(1e-5), -5},
		{"pow(2, 10)", Pow(2, 10), 1024},
		{"pow(-2, 3)", Pow(-2, 3), -8},
		{"pow(-2, 2)", Pow(-2, 2), 4},
		{"pow(10, -2)", Pow(10, -2), 0.01},
		{"pow(0, -1)", Pow(0, -1), inf},
		{"pow(nan, 0)", Pow(nan, 0), 1},
		{"sin(pi)", Sin(math.Pi), 1.2246467991473532e-16},
		{"cos(pi)", Cos(math.Pi), -1},
		{"tan(pi/4)", Tan(math.Pi / 4), 0.9999999999999999},
		{"sin(1e-30)", Sin(1e-30), 1e-30},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	for _, x := range []float64{0, 1e-30, 1, 3.5, -7, 1e9, 2e9} {
		if s, c := SinCos(x); s != Sin(x) || c != Cos(x) {
			t.Errorf("SinCos(%v) = %v, %v; Sin, Cos = %v, %v", x, s, c, Sin(x), Cos(x))
		}
	}
	if !math.IsNaN(Log(-1)) || !math.IsNaN(Pow(-2, 0.5)) {
		t.Errorf("log(-1), pow(-2, 0.5) should be NaN")
	}
}
