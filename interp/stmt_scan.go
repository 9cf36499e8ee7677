package interp

import (
	"bytes"
	"fmt"
)

// The text step of stmtPass. Starlark reserves try, except, finally, raise,
// with, del and the rest as keywords, so it would reject these statements
// before any tree could be built. Each keyword is rewritten into Starlark
// that parses and says what it was, with marker names the tree step
// recognises:
//
//	try:                  if _sf_m_try:
//	except (A, B) as e:   elif _sf_m_except_as((A, B), e):
//	except A:             elif _sf_m_except(A):
//	except:               elif _sf_m_except():
//	else: / finally:      elif _sf_m_else: / elif _sf_m_finally:
//	with A as f, B:       for _sf_m_with in A, _sf_m_as, f, B:
//	raise E from C        _sf_m_raise = E, _sf_m_from, C
//	raise                 _sf_m_reraise()
//	assert c, msg         _sf_m_assert = c, msg
//	del a, d[k]           _sf_m_del = a, d[k]
//
// Only keywords and the punctuation around them change; the user's
// expressions are left where they are, for the other passes and for
// positions. Constructs that cannot be lowered are reported here, at the
// keyword, before anything runs.

// Marker names: identifiers a script does not use (the _sf_ prefix is
// starflow's), so the tree step can tell lowered statements by name.
const (
	markTry      = "_sf_m_try"
	markWithTry  = "_sf_m_withtry" // a try/finally a with statement became
	markExcept   = "_sf_m_except"
	markExceptAs = "_sf_m_except_as"
	markElse     = "_sf_m_else"
	markFinally  = "_sf_m_finally"
	markWith     = "_sf_m_with"
	markAs       = "_sf_m_as"
	markRaise    = "_sf_m_raise"
	markFrom     = "_sf_m_from"
	markReraise  = "_sf_m_reraise"
	markAssert   = "_sf_m_assert"
	markDel      = "_sf_m_del"
	markPrefix   = "_sf_m_"
)

// stmtWords are the words whose presence makes the pass worth running.
var stmtWords = [][]byte{
	[]byte("try"), []byte("raise"), []byte("with"), []byte("assert"), []byte("del"),
	[]byte("class"), []byte("yield"), []byte("async"), []byte("await"),
	[]byte("global"), []byte("nonlocal"),
}

func mayHaveStmts(src []byte) bool {
	for _, w := range stmtWords {
		if bytes.Contains(src, w) {
			return true
		}
	}
	return false
}

// unsupported says, for each construct that cannot be lowered, what to
// write instead.
var unsupported = map[string]string{
	"class": "class is not supported: Starlark has no classes; " +
		"use a dict, or struct(field=value, ...) for a record, and functions that take it",
	"yield": "yield is not supported: Starlark has no generators; " +
		"build the values in a list and return the list",
	"async": "async is not supported: apps already run concurrently; " +
		"make the coroutine a python_app and call .result() on the futures it returns",
	"await": "await is not supported: apps already run concurrently; " +
		"call .result() on an app's future to wait for it",
	"global": "global is not supported: a Starlark function cannot rebind a module variable; " +
		"return the new value, or keep the state in a dict or list the function updates",
	"nonlocal": "nonlocal is not supported: a nested function cannot rebind its parent's variable; " +
		"return the new value, or keep the state in a dict or list the function updates",
}

func stmtText(l *lowering, src []byte, e *edits) error {
	s := &stmtScan{l: l, src: src, e: e}
	return s.run()
}

// stmtScan finds the statements to lower in one source.
type stmtScan struct {
	l     *lowering
	src   []byte
	e     *edits
	tries []int32 // columns of the try statements whose clauses may follow
}

// run scans src once, with the same notion of statement starts as
// findStarts, and records the edits.
func (s *stmtScan) run() error {
	return walkLines(s.src, func(t lexTok) error {
		if t.atLine {
			s.lineAt(t.pos.col, t.word)
		}
		if t.kind != lexWord {
			return nil
		}
		return s.word(t.word, t.pos, t.atLine, t.atClause)
	})
}

// lineAt keeps the stack of open try statements up to date at the first
// token of a logical line: a line at a try's indentation ends it, unless
// it is one of its clauses.
func (s *stmtScan) lineAt(col int32, w string) {
	for len(s.tries) > 0 && s.tries[len(s.tries)-1] > col {
		s.tries = s.tries[:len(s.tries)-1]
	}
	if s.tryAt(col) && w != "except" && w != "else" && w != "finally" {
		s.tries = s.tries[:len(s.tries)-1]
	}
}

// tryAt reports whether a try statement is open at column col.
func (s *stmtScan) tryAt(col int32) bool {
	return len(s.tries) > 0 && s.tries[len(s.tries)-1] == col
}

// word handles one identifier or keyword of the source.
func (s *stmtScan) word(w string, pos srcPos, atLine, atClause bool) error {
	if msg, ok := unsupported[w]; ok {
		return s.l.errorAt(pos, msg)
	}
	kw := func(text string) { s.e.replace(pos.off, pos.off+len(w), text) }
	switch {
	case w == "try" && atLine:
		if t := s.lexAfter(pos, w).next(); t.kind == ':' {
			kw("if " + markTry)
			s.tries = append(s.tries, pos.col)
		}
	case w == "except" && atLine:
		if !s.tryAt(pos.col) {
			return s.l.errorAt(pos, "except without a try at the same indentation")
		}
		return s.except(pos)
	case (w == "else" || w == "finally") && atLine && s.tryAt(pos.col):
		mark := markElse
		if w == "finally" {
			mark = markFinally
		}
		kw("elif " + mark)
	case w == "with" && atLine:
		s.with(pos)
	case w == "raise" && atClause:
		s.raise(pos)
	case w == "assert" && atClause && s.isAssertStmt(pos):
		kw(markAssert + " =")
	case w == "del" && atClause:
		kw(markDel + " =")
	}
	return nil
}

// except rewrites an except clause's header. A header the scan cannot
// make sense of is left for the parser to report.
func (s *stmtScan) except(pos srcPos) error {
	x := s.lexAfter(pos, "except")
	t := x.next()
	if t.kind == '*' {
		return s.l.errorAt(t.pos, "except* is not supported: "+
			"starflow has no exception groups; catch the exception itself")
	}
	var as *ltok
	for ; t.kind != 0; t = x.next() {
		switch {
		case t.kind == ':' && t.depth == 0:
			mark := markExcept
			if as != nil {
				mark = markExceptAs
				s.e.replace(as.pos.off, as.pos.off+len("as"), ",")
			}
			s.e.replace(pos.off, pos.off+len("except"), "elif "+mark+"(")
			s.e.replace(t.pos.off, t.pos.off, ")")
			return nil
		case t.kind == 'w' && t.text == "as" && t.depth == 0:
			tok := t
			as = &tok
			if name := x.next(); name.kind != 'w' || !isIdentifier(name.text) {
				return s.l.errorAt(name.pos, fmt.Sprintf("except ... as: got %s, want a name", name))
			}
		}
	}
	return nil
}

// with rewrites a with statement's header: `with` becomes a for loop over
// the items, each "as" a marker between an item and its target. Python
// 3.10's parenthesised items, `with (A as a, B as b):`, have their "as"
// inside the parentheses.
func (s *stmtScan) with(pos srcPos) {
	type asTok struct {
		pos   srcPos
		depth int
	}
	var (
		as          []asTok
		first, last ltok
		closed      int // how often the depth came back to 0
	)
	x := s.lexAfter(pos, "with")
	for t := x.next(); t.kind != 0; t = x.next() {
		if first.kind == 0 {
			first = t
		}
		switch {
		case t.kind == ':' && t.depth == 0:
			want := 0
			if first.kind == '(' && closed == 1 && last.kind == ')' {
				want = 1
			}
			s.e.replace(pos.off, pos.off+len("with"), "for "+markWith+" in")
			for _, a := range as {
				if a.depth == want {
					s.e.replace(a.pos.off, a.pos.off+len("as"), ", "+markAs+",")
				}
			}
			return
		case t.kind == 'w' && t.text == "as":
			as = append(as, asTok{t.pos, t.depth})
		case t.kind == ')' && t.depth == 0:
			closed++
		}
		last = t
	}
}

// raise rewrites a raise statement: bare (re-raise), with an exception,
// or with "from cause".
func (s *stmtScan) raise(pos srcPos) {
	x := s.lexAfter(pos, "raise")
	t := x.next()
	if t.kind == 0 {
		s.e.replace(pos.off, pos.off+len("raise"), markReraise+"()")
		return
	}
	s.e.replace(pos.off, pos.off+len("raise"), markRaise+" =")
	for ; t.kind != 0; t = x.next() {
		if t.kind == 'w' && t.text == "from" && t.depth == 0 {
			s.e.replace(t.pos.off, t.pos.off+len("from"), ", "+markFrom+",")
			return
		}
	}
}

// isAssertStmt tells Python's assert statement from a Starlark name
// "assert" (a module of that name is common in tests: assert.eq(...)).
func (s *stmtScan) isAssertStmt(pos srcPos) bool {
	i := pos.off + len("assert")
	for i < len(s.src) && isBlank(s.src[i]) {
		i++
	}
	if i == len(s.src) {
		return false
	}
	switch s.src[i] {
	case '.', ',', ')', ']', '}', ':', ';', '#', '\n', '\r':
		return false
	case '=':
		return i+1 < len(s.src) && s.src[i+1] == '='
	}
	return true
}

// lexAfter returns a lexer for the rest of the logical line after the
// keyword w at pos.
func (s *stmtScan) lexAfter(pos srcPos, w string) *lineLexer {
	c := cursor{src: s.src, srcPos: pos}
	for range len(w) {
		c.next()
	}
	return &lineLexer{c: c}
}

// An ltok is a token of one logical line. Kind is 'w' for a word, 's' for
// a string, 0 for the end of the line (or a ";"), else the punctuation
// byte itself.
type ltok struct {
	kind  byte
	text  string
	pos   srcPos
	depth int // bracket depth before the token
}

func (t ltok) String() string {
	if t.kind == 0 {
		return "end of line"
	}
	return fmt.Sprintf("%q", t.text)
}

// lineLexer reads the tokens of a statement's logical line, skipping
// strings, comments and line continuations, and going on across lines
// inside brackets.
type lineLexer struct {
	c     cursor
	depth int
}

func (x *lineLexer) next() ltok {
	c := &x.c
	for !c.eof() {
		b := c.src[c.off]
		switch {
		case isBlank(b):
			c.next()
			continue
		case b == '\\' && isNewline(c.peek(1)):
			c.next()
			c.next()
			continue
		case isNewline(b) || b == '#':
			if x.depth == 0 {
				return ltok{pos: c.srcPos}
			}
			if b == '#' {
				c.skipComment()
			} else {
				c.next()
			}
			continue
		case b == ';' && x.depth == 0:
			return ltok{pos: c.srcPos}
		}
		pos := c.srcPos
		switch {
		case isQuote(b):
			c.skipString()
			return ltok{kind: 's', text: string(c.src[pos.off:c.off]), pos: pos, depth: x.depth}
		case isWordByte(b):
			w := c.word()
			if !c.eof() && isQuote(c.src[c.off]) && isStringPrefix(w) {
				c.skipString()
				return ltok{kind: 's', text: string(c.src[pos.off:c.off]), pos: pos, depth: x.depth}
			}
			return ltok{kind: 'w', text: w, pos: pos, depth: x.depth}
		}
		t := ltok{kind: b, text: string(b), pos: pos, depth: x.depth}
		switch b {
		case '(', '[', '{':
			x.depth++
		case ')', ']', '}':
			x.depth = max(x.depth-1, 0)
			t.depth = x.depth
		}
		c.next()
		return t
	}
	return ltok{pos: c.srcPos}
}
