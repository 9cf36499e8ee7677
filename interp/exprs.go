package interp

import (
	"cmp"
	"slices"
	"strings"
)

// exprPass lowers the Python expressions Starlark lacks (issue 3).
//
// Its text step walks a token stream of the source and records edits:
// f-strings become _sf_fstring calls, x ** y becomes _sf_pow(x, y),
// "is" and chained comparisons become == or _sf_is and _sf_chain calls,
// generator expressions become list comprehensions, set displays become
// set([...]), adjacent string literals are joined with "+", and Python's
// string prefixes, escapes and digit underscores are made Starlark's. Its
// tree step turns s.format(...) and s % x into _sf_format and _sf_percent
// calls, which know Python's format-spec mini-language. The _sf_ names are
// predeclared by package stdlib/format.
var exprPass = pass{
	quick: func([]byte) bool { return true }, // comparisons and % are everywhere
	text:  lowerExprText,
	tree:  lowerExprTree,
}

// An xedit is an edit of the expression pass. Edits that insert text at
// one offset must be applied in nesting order, so each insertion knows
// whether it opens or closes a construct and where the construct's other
// end is.
type xedit struct {
	edit
	opens bool // an insertion that opens a construct ("_sf_pow(")
	other int  // the construct's other end
	seq   int  // recording order, for ties
}

// exprLowering collects the text step's edits and its first error.
type exprLowering struct {
	src   []byte
	edits []xedit
	err   *scanError
	errAt int // where the construct in error starts
}

func (x *exprLowering) add(e xedit) {
	e.seq = len(x.edits)
	x.edits = append(x.edits, e)
}

func (x *exprLowering) replace(off, end int, text string) {
	x.add(xedit{edit: edit{off, end, text}})
}

// open inserts text at off for a construct that ends at end.
func (x *exprLowering) open(off int, text string, end int) {
	x.add(xedit{edit: edit{off, off, text}, opens: true, other: end})
}

// close inserts text at off for a construct that began at start.
func (x *exprLowering) close(off int, text string, start int) {
	x.add(xedit{edit: edit{off, off, text}, other: start})
}

// fail records an error at off in the construct that starts at start.
// Starlark's parse errors before start are reported instead: they are
// the user's, not caused by the text left unlowered.
func (x *exprLowering) fail(start, off int, msg string) {
	if x.err == nil || start < x.errAt {
		x.err = &scanError{posAt(x.src, off), msg}
		x.errAt = start
	}
}

// posAt is the line and column of offset off.
func posAt(src []byte, off int) srcPos {
	c := newCursor(src)
	for c.off < off && !c.eof() {
		c.next()
	}
	return c.srcPos
}

// sorted returns the edits in the order they must be applied: by offset;
// at one offset, insertions before replacements, closing insertions
// before opening ones, inner constructs closed first and outer ones
// opened first.
func (x *exprLowering) sorted() []xedit {
	slices.SortFunc(x.edits, func(a, b xedit) int {
		if a.off != b.off {
			return cmp.Compare(a.off, b.off)
		}
		if ai, bi := a.off == a.end, b.off == b.end; ai != bi {
			return boolOrder(ai)
		}
		if a.opens != b.opens {
			return boolOrder(!a.opens)
		}
		if a.other != b.other {
			return cmp.Compare(b.other, a.other)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	return x.edits
}

// boolOrder sorts first what is true.
func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}

func lowerExprText(l *lowering, src []byte, e *edits) error {
	x := &exprLowering{src: src}
	x.lower(tokenize(src, 0, len(src), 0))
	for _, ed := range x.sorted() {
		e.replace(ed.off, ed.end, ed.text)
	}
	if x.err == nil {
		return nil
	}
	if l.err == nil {
		at := posAt(src, x.errAt)
		l.errAt = lineCol{at.line, at.col}
	}
	return l.errorAt(x.err.pos, x.err.msg)
}

// lower records the edits for one token list: a file, or the expression
// of an f-string field.
func (x *exprLowering) lower(toks []xtok) {
	for i := range toks {
		t := &toks[i]
		switch t.kind {
		case tkString:
			x.stringLit(t)
		case tkNumber:
			x.number(t)
		case tkOp:
			switch {
			case t.is(x.src, ":="):
				x.fail(t.off, t.off, "assignment expression (walrus) \":=\" is not supported: "+
					"assign the value on a line of its own before using it")
			case t.is(x.src, "**") && i > 0 && isOperandEnd(x.src, &toks[i-1]):
				x.pow(toks, i)
			case t.is(x.src, "**="):
				x.powAssign(toks, i)
			}
		}
	}
	x.concat(toks)
	x.groups(toks, 0, len(toks), -1)
	x.kwargsAfterStar(toks)
}

// pow lowers the binary ** at toks[i] to _sf_pow(left, right). The left
// operand is the primary just before (so -2 ** 2 is -(2 ** 2)); the right
// one is a unary expression that may itself hold a ** (right-associative).
func (x *exprLowering) pow(toks []xtok, i int) {
	ls := primaryStart(x.src, toks, i-1)
	re := powRightEnd(x.src, toks, i+1)
	if ls < 0 || re < 0 {
		return // malformed: Starlark's parser reports it
	}
	start, end := toks[ls].off, toks[re].end
	x.open(start, "_sf_pow(", end)
	x.replace(toks[i].off, toks[i].end, ",")
	x.close(end, ")", start)
}

// powAssign lowers "target **= value" to "target = _sf_pow(target, value)".
// The target's text is repeated, so its subexpressions are evaluated twice.
func (x *exprLowering) powAssign(toks []xtok, i int) {
	d := toks[i].depth
	ls := i
	for ls > 0 {
		p := &toks[ls-1]
		if p.depth == d && (p.kind == tkNewline || p.kind == tkOp && (p.is(x.src, ";") || p.is(x.src, ":"))) {
			break
		}
		ls--
	}
	re := i
	for re+1 < len(toks) {
		n := &toks[re+1]
		if n.depth == d && (n.kind == tkNewline || n.kind == tkOp && n.is(x.src, ";")) {
			break
		}
		re++
	}
	if ls == i || re == i {
		return
	}
	target := string(x.src[toks[ls].off:toks[i-1].end])
	x.replace(toks[i].off, toks[i].end, "= _sf_pow("+target+",")
	x.close(toks[re].end, ")", toks[i].off)
}

// primaryStart returns the index of the first token of the primary
// expression (atom plus calls, indexes and attributes) ending at toks[j],
// or -1.
func primaryStart(src []byte, toks []xtok, j int) int {
	for j >= 0 {
		t := &toks[j]
		switch t.kind {
		case tkClose:
			o := int(t.match)
			if o < 0 {
				return -1
			}
			if o > 0 && toks[o].b != '{' && isOperandEnd(src, &toks[o-1]) {
				j = o - 1 // a call or an index: go on to what is called
				continue
			}
			return o
		case tkName, tkNumber, tkString:
			if t.kind == tkName && j >= 2 && toks[j-1].is(src, ".") && isOperandEnd(src, &toks[j-2]) {
				j -= 2 // an attribute
				continue
			}
			return j
		default:
			return -1
		}
	}
	return -1
}

// powRightEnd returns the index of the last token of the right operand of
// a ** whose operand starts at toks[j], or -1.
func powRightEnd(src []byte, toks []xtok, j int) int {
	for j < len(toks) && toks[j].kind == tkOp && (toks[j].is(src, "-") || toks[j].is(src, "+") || toks[j].is(src, "~")) {
		j++
	}
	if j >= len(toks) {
		return -1
	}
	switch t := &toks[j]; t.kind {
	case tkOpen:
		if t.match < 0 {
			return -1
		}
		j = int(t.match)
	case tkNumber, tkString:
	case tkName:
		if !isOperandEnd(src, t) {
			return -1
		}
	default:
		return -1
	}
	for j+1 < len(toks) {
		n := &toks[j+1]
		switch {
		case n.is(src, ".") && j+2 < len(toks) && toks[j+2].kind == tkName:
			j += 2
			continue
		case n.kind == tkOpen && n.b != '{' && n.match >= 0:
			j = int(n.match)
			continue
		}
		break
	}
	if j+1 < len(toks) && toks[j+1].is(src, "**") {
		return powRightEnd(src, toks, j+2)
	}
	return j
}

// concat joins adjacent string literals ("a" "b", which Python joins when
// it reads them) with "+", in parentheses so that a following % or
// .format applies to the whole.
func (x *exprLowering) concat(toks []xtok) {
	for i := 0; i < len(toks); i++ {
		if toks[i].kind != tkString || i+1 == len(toks) || toks[i+1].kind != tkString {
			continue
		}
		j := i
		for j+1 < len(toks) && toks[j+1].kind == tkString {
			j++
		}
		start, end := toks[i].off, toks[j].end
		x.open(start, "(", end)
		for k := i; k < j; k++ {
			x.close(toks[k].end, " +", toks[k].off)
		}
		x.close(end, ")", start)
		i = j
	}
}

// number drops the underscores Python allows between digits.
func (x *exprLowering) number(t *xtok) {
	for i := t.off; i < t.end; i++ {
		if x.src[i] == '_' {
			x.replace(i, i+1, "")
		}
	}
}

// quoteInfo splits a string token into prefix, quotes and body.
type quoteInfo struct {
	prefix           string // as written
	q                int    // offset of the opening quote
	quote            string // the opening quote: ', ", ''' or """
	bodyOff, bodyEnd int
}

// splitQuotes splits a terminated string token.
func splitQuotes(src []byte, t *xtok) quoteInfo {
	q := t.off
	for !isQuote(src[q]) {
		q++
	}
	n := 1
	if t.end-q >= 6 && src[q+1] == src[q] && src[q+2] == src[q] {
		n = 3
	}
	return quoteInfo{prefix: string(src[t.off:q]), q: q, quote: string(src[q : q+n]), bodyOff: q + n, bodyEnd: t.end - n}
}

// stringLit lowers one string literal: an f-string to a call; in others,
// Python's prefixes Starlark lacks (u, R, B, br) and the unknown escapes
// Python keeps as written ("\d").
func (x *exprLowering) stringLit(t *xtok) {
	if t.bad {
		return // Starlark reports the unterminated literal
	}
	qi := splitQuotes(x.src, t)
	lower := strings.ToLower(qi.prefix)
	if strings.Contains(lower, "f") {
		x.fstring(t, qi)
		return
	}
	raw := strings.Contains(lower, "r")
	want := ""
	switch {
	case raw && strings.Contains(lower, "b"):
		want = "rb"
	case raw:
		want = "r"
	case strings.Contains(lower, "b"):
		want = "b"
	}
	if want != qi.prefix {
		x.replace(t.off, qi.q, want)
	}
	if !raw {
		for i := qi.bodyOff; i < qi.bodyEnd; i++ {
			if x.src[i] != '\\' || i+1 >= qi.bodyEnd {
				continue
			}
			switch c := x.src[i+1]; {
			case c == 'N' && !strings.Contains(lower, "b"):
				x.fail(t.off, i, namedEscape)
			case !isStarlarkEscape(c):
				x.replace(i, i, `\`)
			}
			i++
		}
	}
}

const namedEscape = `escapes by name (\N{...}) are not supported: write the character itself or \u and its code`

// isStarlarkEscape reports whether Starlark reads a backslash followed by
// c as an escape. Python keeps the backslash of any other pair.
func isStarlarkEscape(c byte) bool {
	switch c {
	case '\n', '\r', 'a', 'b', 'f', 'n', 'r', 't', 'v', '\\', '\'', '"', 'x', 'u', 'U':
		return true
	}
	return '0' <= c && c <= '7'
}
