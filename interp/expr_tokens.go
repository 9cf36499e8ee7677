package interp

import "strings"

// The expression pass works on a token stream: Python's lexical rules
// cut down to what lowering needs. Each token knows its bracket depth and,
// for a bracket, its partner, so that an operand can be found by walking
// tokens rather than by parsing. Newlines inside brackets are not tokens;
// a logical line's end at depth 0 is.

// A tokKind classifies a token.
type tokKind uint8

const (
	tkName    tokKind = iota // identifier or keyword
	tkNumber                 // numeric literal
	tkString                 // string literal, prefix included
	tkOp                     // operator or punctuation
	tkOpen                   // ( [ {
	tkClose                  // ) ] }
	tkNewline                // end of a logical line at depth 0
)

// An xtok is one token: src[off:end].
type xtok struct {
	kind  tokKind
	b     byte // first byte of the token
	off   int
	end   int
	depth int32 // brackets open around it; an opener and its closer sit outside
	match int32 // for brackets: index of the partner, -1 if none
	bad   bool  // a string literal without its closing quote
}

func (t *xtok) text(src []byte) string { return string(src[t.off:t.end]) }

// is reports whether t is the operator or keyword s.
func (t *xtok) is(src []byte, s string) bool {
	return t.end-t.off == len(s) && string(src[t.off:t.end]) == s
}

// tokenize returns the tokens of src[start:end]. Inside brackets (and
// for the expression of an f-string field, which starts at depth 1) line
// endings are not tokens.
func tokenize(src []byte, start, end int, depth int32) []xtok {
	toks := make([]xtok, 0, (end-start)/4)
	var open []int32 // indices of unclosed openers
	i := start
	for i < end {
		b := src[i]
		switch {
		case b == ' ' || b == '\t' || b == '\f':
			i++
			continue
		case b == '\n' || b == '\r':
			if depth == 0 && len(toks) > 0 && toks[len(toks)-1].kind != tkNewline {
				toks = append(toks, xtok{kind: tkNewline, b: '\n', off: i, end: i + 1, match: -1})
			}
			i++
			continue
		case b == '#':
			for i < end && src[i] != '\n' && src[i] != '\r' {
				i++
			}
			continue
		case b == '\\' && i+1 < end && (src[i+1] == '\n' || src[i+1] == '\r'):
			i += 2
			continue
		}
		t := xtok{b: b, off: i, depth: depth, match: -1}
		switch {
		case isQuote(b):
			t.kind = tkString
			t.end, t.bad = scanString(src, i, end)
		case '0' <= b && b <= '9' || b == '.' && i+1 < end && '0' <= src[i+1] && src[i+1] <= '9':
			t.kind, t.end = tkNumber, skipNumber(src, i, end)
		case isWordByte(b):
			j := i
			for j < end && isWordByte(src[j]) {
				j++
			}
			if j < end && isQuote(src[j]) && isStringPrefix(string(src[i:j])) {
				t.kind = tkString
				t.end, t.bad = scanString(src, j, end)
			} else {
				t.kind, t.end = tkName, j
			}
		case b == '(' || b == '[' || b == '{':
			t.kind, t.end = tkOpen, i+1
			open = append(open, int32(len(toks)))
			depth++
		case b == ')' || b == ']' || b == '}':
			t.kind, t.end = tkClose, i+1
			if len(open) > 0 {
				o := open[len(open)-1]
				open = open[:len(open)-1]
				depth--
				t.depth = depth
				t.match = o
				toks[o].match = int32(len(toks))
			}
		default:
			t.kind, t.end = tkOp, i+opLen(src, i, end)
		}
		toks = append(toks, t)
		i = t.end
	}
	return toks
}

// opLen is the length of the operator at src[i:]: Python's operators
// of three and two bytes, else one.
func opLen(src []byte, i, end int) int {
	b0, b1, b2 := src[i], byte(0), byte(0)
	if i+1 < end {
		b1 = src[i+1]
	}
	if i+2 < end {
		b2 = src[i+2]
	}
	switch {
	case b0 == b1 && b2 == '=' && (b0 == '*' || b0 == '/' || b0 == '<' || b0 == '>'),
		b0 == '.' && b1 == '.' && b2 == '.':
		return 3 // **= //= <<= >>= ...
	case b0 == b1 && (b0 == '*' || b0 == '/' || b0 == '<' || b0 == '>' || b0 == '='),
		b1 == '=' && strings.IndexByte("<>!:+-*/%&|^@", b0) >= 0,
		b0 == '-' && b1 == '>':
		return 2 // ** // << >> == <= >= != := += ... ->
	}
	return 1
}

// skipNumber returns the end of the number at src[i:]: digits, letters
// (hex digits, exponents, prefixes), underscores, points and an
// exponent's sign.
func skipNumber(src []byte, i, end int) int {
	for i < end {
		b := src[i]
		if !isWordByte(b) && b != '.' {
			return i
		}
		i++
		if (b == 'e' || b == 'E') && i < end && (src[i] == '+' || src[i] == '-') {
			i++
		}
	}
	return i
}

// scanString returns the end of the string literal whose opening quote
// is at src[i], and whether the literal is unterminated: then it ends at
// its line's end (or at end, for a triple-quoted one).
func scanString(src []byte, i, end int) (int, bool) {
	q := src[i]
	triple := i+2 < end && src[i+1] == q && src[i+2] == q
	if triple {
		i += 3
	} else {
		i++
	}
	for i < end {
		switch b := src[i]; {
		case b == '\\':
			i = min(i+2, end)
			continue
		case b == q:
			if !triple {
				return i + 1, false
			}
			if i+2 < end && src[i+1] == q && src[i+2] == q {
				return i + 3, false
			}
		case (b == '\n' || b == '\r') && !triple:
			return i, true
		}
		i++
	}
	return end, true
}

// isBoundaryKeyword reports whether w is a keyword that ends an operand:
// a comparison or a power cannot reach across it.
func isBoundaryKeyword(w string) bool {
	switch w {
	case "and", "or", "not", "if", "else", "elif", "for", "while", "in", "lambda",
		"return", "yield", "assert", "del", "raise", "with", "as", "from", "import",
		"def", "class", "pass", "break", "continue", "await", "async", "except",
		"try", "finally", "global", "nonlocal", "is":
		return true
	}
	return false
}

// isOperandEnd reports whether a value can end at t, so that a following
// "(" or "[" is a call or an index and a following "**" is binary.
func isOperandEnd(src []byte, t *xtok) bool {
	switch t.kind {
	case tkNumber, tkString:
		return true
	case tkClose:
		return true
	case tkName:
		return !isBoundaryKeyword(string(src[t.off:t.end]))
	}
	return false
}
