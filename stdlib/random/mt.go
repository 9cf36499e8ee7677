package random

import (
	"math"
	"math/big"
)

// mt is the Mersenne Twister MT19937 exactly as CPython's _random module
// runs it, so that a seed gives the numbers Python gives.
type mt struct {
	state [624]uint32
	index int
}

const (
	mtN       = 624
	mtM       = 397
	matrixA   = 0x9908b0df
	upperMask = 0x80000000
	lowerMask = 0x7fffffff
)

func (m *mt) initGenrand(s uint32) {
	m.state[0] = s
	for i := 1; i < mtN; i++ {
		prev := m.state[i-1]
		m.state[i] = 1812433253*(prev^(prev>>30)) + uint32(i)
	}
	m.index = mtN
}

// seedArray is init_by_array: CPython seeds from the 32-bit words of the
// seed, least significant first.
func (m *mt) seedArray(key []uint32) {
	m.initGenrand(19650218)
	i, j := 1, 0
	k := max(mtN, len(key))
	for ; k > 0; k-- {
		prev := m.state[i-1]
		m.state[i] = (m.state[i] ^ ((prev ^ (prev >> 30)) * 1664525)) + key[j] + uint32(j)
		i++
		j++
		if i >= mtN {
			m.state[0] = m.state[mtN-1]
			i = 1
		}
		if j >= len(key) {
			j = 0
		}
	}
	for k = mtN - 1; k > 0; k-- {
		prev := m.state[i-1]
		m.state[i] = (m.state[i] ^ ((prev ^ (prev >> 30)) * 1566083941)) - uint32(i)
		i++
		if i >= mtN {
			m.state[0] = m.state[mtN-1]
			i = 1
		}
	}
	m.state[0] = 0x80000000 // assures a non-zero initial array
}

// next is genrand_uint32.
func (m *mt) next() uint32 {
	if m.index >= mtN {
		m.twist()
	}
	y := m.state[m.index]
	m.index++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

func (m *mt) twist() {
	mag := func(y uint32) uint32 { return (y & 1) * matrixA }
	var kk int
	for kk = 0; kk < mtN-mtM; kk++ {
		y := m.state[kk]&upperMask | m.state[kk+1]&lowerMask
		m.state[kk] = m.state[kk+mtM] ^ (y >> 1) ^ mag(y)
	}
	for ; kk < mtN-1; kk++ {
		y := m.state[kk]&upperMask | m.state[kk+1]&lowerMask
		m.state[kk] = m.state[kk+(mtM-mtN)] ^ (y >> 1) ^ mag(y)
	}
	y := m.state[mtN-1]&upperMask | m.state[0]&lowerMask
	m.state[mtN-1] = m.state[mtM-1] ^ (y >> 1) ^ mag(y)
	m.index = 0
}

// random is random_random: 53 random bits from two words, a>>5 and b>>6.
func (m *mt) random() float64 {
	a := m.next() >> 5
	b := m.next() >> 6
	return (float64(a)*67108864.0 + float64(b)) * (1.0 / 9007199254740992.0)
}

// bits64 is getrandbits(k) for 0 <= k <= 64: words least significant
// first, the last one shifted right to keep only the bits asked for.
func (m *mt) bits64(k int) uint64 {
	if k <= 32 {
		if k == 0 {
			return 0
		}
		return uint64(m.next() >> (32 - k))
	}
	lo := uint64(m.next())
	hi := uint64(m.next() >> (64 - k))
	return lo | hi<<32
}

// bits is getrandbits(k) for any k >= 0.
func (m *mt) bits(k int) *big.Int {
	if k <= 64 {
		return new(big.Int).SetUint64(m.bits64(k))
	}
	words := (k-1)/32 + 1
	buf := make([]byte, 4*words) // big-endian, so the first word goes last
	for i := 0; i < words; i++ {
		r := m.next()
		if k < 32 {
			r >>= 32 - k
		}
		off := 4 * (words - 1 - i)
		buf[off], buf[off+1], buf[off+2], buf[off+3] = byte(r>>24), byte(r>>16), byte(r>>8), byte(r)
		k -= 32
	}
	return new(big.Int).SetBytes(buf)
}

// below is _randbelow_with_getrandbits: draw n.bit_length() bits until the
// number is below n. n must be positive.
func (m *mt) below(n *big.Int) *big.Int {
	k := n.BitLen()
	if n.IsUint64() {
		limit := n.Uint64()
		r := m.bits64(k)
		for r >= limit {
			r = m.bits64(k)
		}
		return new(big.Int).SetUint64(r)
	}
	r := m.bits(k)
	for r.Cmp(n) >= 0 {
		r = m.bits(k)
	}
	return r
}

// belowInt is below for a small n > 0.
func (m *mt) belowInt(n int) int {
	k := big.NewInt(int64(n)).BitLen()
	r := m.bits64(k)
	for r >= uint64(n) {
		r = m.bits64(k)
	}
	return int(r)
}

// keyOf is the init_by_array key of a non-negative seed: its 32-bit
// words, least significant first, and [0] for zero.
func keyOf(n *big.Int) []uint32 {
	b := n.Bytes() // big-endian
	if len(b) == 0 {
		return []uint32{0}
	}
	words := (len(b) + 3) / 4
	key := make([]uint32, words)
	for i := 0; i < len(b); i++ {
		byteIndex := len(b) - 1 - i // i-th least significant byte
		key[i/4] |= uint32(b[byteIndex]) << (8 * (i % 4))
	}
	return key
}

// floatHash is Python's hash(float) for a finite or infinite x, which is
// what random.seed uses for a float seed.
func floatHash(x float64) int64 {
	const bits = 61
	const modulus = (1 << bits) - 1
	if math.IsInf(x, 0) {
		if x > 0 {
			return 314159
		}
		return -314159
	}
	m, e := math.Frexp(x)
	sign := int64(1)
	if m < 0 {
		sign, m = -1, -m
	}
	var h uint64
	for m != 0 {
		h = (h<<28)&modulus | h>>(bits-28)
		m *= 268435456.0
		e -= 28
		y := uint64(m)
		m -= float64(y)
		h += y
		if h >= modulus {
			h -= modulus
		}
	}
	if e >= 0 {
		e %= bits
	} else {
		e = bits - 1 - ((-1 - e) % bits)
	}
	h = (h<<uint(e))&modulus | h>>(bits-uint(e))
	r := int64(h) * sign
	if r == -1 {
		r = -2
	}
	return r
}
