package crmath

import (
	"math"
	"testing"
)

var sink float64

func BenchmarkLog(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink = Log(1.0 + float64(i%1000)/7)
	}
}

func BenchmarkGoLog(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink = math.Log(1.0 + float64(i%1000)/7)
	}
}

func BenchmarkSinCos(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink = Sin(float64(i%1000)/160) + Cos(float64(i%1000)/160)
	}
}

func BenchmarkPow(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sink = Pow(1.0+float64(i%1000)/7, 0.37)
	}
}
