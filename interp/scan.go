package interp

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// This file holds the lexical half of lowering: a scanner that knows just
// enough of Python's and Starlark's lexical rules (string literals, comments,
// brackets, line continuations) to find where statements begin, and a small
// parser for import statements. It never fails on malformed input: whatever
// it cannot make sense of is left for Starlark's parser to report.

// A srcPos is a place in the source: a byte offset plus the 1-based line and
// column that Starlark's scanner would report there. Columns count runes (a
// tab is one column) and "\r\n" or a lone "\r" ends a line, as in Starlark.
type srcPos struct {
	off  int
	line int32
	col  int32
}

// A cursor walks source text keeping line and column in step with the offset.
type cursor struct {
	src []byte
	srcPos
}

func newCursor(src []byte) *cursor {
	return &cursor{src: src, srcPos: srcPos{line: 1, col: 1}}
}

func (c *cursor) eof() bool { return c.off >= len(c.src) }

// peek returns the byte k bytes ahead, or 0 past the end.
func (c *cursor) peek(k int) byte {
	if c.off+k < len(c.src) {
		return c.src[c.off+k]
	}
	return 0
}

// next consumes one rune (or one line ending).
func (c *cursor) next() {
	b := c.src[c.off]
	switch {
	case b == '\n':
		c.off++
		c.line, c.col = c.line+1, 1
	case b == '\r':
		c.off++
		if c.peek(0) == '\n' {
			c.off++
		}
		c.line, c.col = c.line+1, 1
	case b < utf8.RuneSelf:
		c.off++
		c.col++
	default:
		_, size := utf8.DecodeRune(c.src[c.off:])
		c.off += size
		c.col++
	}
}

func isNewline(b byte) bool { return b == '\n' || b == '\r' }
func isBlank(b byte) bool   { return b == ' ' || b == '\t' || b == '\f' }
func isQuote(b byte) bool   { return b == '"' || b == '\'' }

// isWordByte reports whether b can continue an identifier or a number.
// Any non-ASCII byte counts, so Unicode identifiers stay whole.
func isWordByte(b byte) bool {
	return b == '_' || b >= utf8.RuneSelf ||
		'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

// word consumes an identifier, keyword or number and returns its text.
func (c *cursor) word() string {
	start := c.off
	for !c.eof() && isWordByte(c.src[c.off]) {
		c.next()
	}
	return string(c.src[start:c.off])
}

// isStringPrefix reports whether w, directly followed by a quote, is a
// string prefix. Python's f and u prefixes are included so that an f-string
// is skipped as a string, whoever lowers it later.
func isStringPrefix(w string) bool {
	if len(w) == 0 || len(w) > 2 {
		return false
	}
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case 'r', 'R', 'b', 'B', 'u', 'U', 'f', 'F':
		default:
			return false
		}
	}
	return true
}

// skipString consumes a string literal whose opening quote is at the cursor.
// An unterminated literal ends at the end of its line (or of the file for a
// triple-quoted one); the Starlark parser reports it.
func (c *cursor) skipString() {
	q := c.src[c.off]
	triple := c.peek(1) == q && c.peek(2) == q
	if triple {
		c.next()
		c.next()
	}
	c.next()
	run := 0 // closing quotes seen in a row
	for !c.eof() {
		b := c.src[c.off]
		switch {
		case b == '\\':
			// Even in raw strings a backslash keeps the next rune (a quote
			// or a newline) from ending the literal.
			c.next()
			if !c.eof() {
				c.next()
			}
			run = 0
			continue
		case b == q:
			c.next()
			if !triple {
				return
			}
			if run++; run == 3 {
				return
			}
			continue
		case isNewline(b) && !triple:
			return
		}
		run = 0
		c.next()
	}
}

// skipComment consumes a comment up to, not including, its line ending.
func (c *cursor) skipComment() {
	for !c.eof() && !isNewline(c.src[c.off]) {
		c.next()
	}
}

// A startKind names a statement that lowering rewrites.
type startKind int

const (
	startDecorator startKind = iota // "@" beginning a logical line
	startImport                     // "import" beginning a statement
	startFrom                       // "from" beginning a statement
	startLoadAttr                   // ".load": an attribute named like Starlark's keyword
)

// A stmtStart is a decorator or an import keyword where a statement begins.
type stmtStart struct {
	kind startKind
	pos  srcPos
}

// A lexTok is one token of the walk over logical lines that the lowering
// passes share: a word, a string literal (prefix included) or a piece of
// punctuation, and whether it begins a logical line or a statement.
type lexTok struct {
	kind     lexKind
	pos      srcPos
	word     string // the word, for lexWord
	b        byte   // the first byte
	atLine   bool   // first token of a logical line (outside brackets)
	atClause bool   // first token of a statement: also after ";" or a block's ":"
}

type lexKind uint8

const (
	lexWord lexKind = iota
	lexString
	lexPunct
)

// walkLines scans src once, calling visit for every token in order. It
// knows Python's and Starlark's lexical rules well enough to keep logical
// lines straight: strings, comments, brackets (newlines inside them do not
// end lines) and backslash continuations. visit's error stops the walk.
func walkLines(src []byte, visit func(t lexTok) error) error {
	c := newCursor(src)
	depth := 0          // bracket nesting
	lineStart := true   // the next token begins a logical line
	clauseStart := true // the next token begins a statement
	for !c.eof() {
		b := c.src[c.off]
		switch {
		case isBlank(b):
			c.next()
			continue
		case isNewline(b):
			c.next()
			if depth == 0 {
				lineStart, clauseStart = true, true
			}
			continue
		case b == '#':
			c.skipComment()
			continue
		case b == '\\' && isNewline(c.peek(1)):
			// A continued line goes on with the same logical line.
			c.next()
			c.next()
			continue
		}
		t := lexTok{pos: c.srcPos, b: b, atLine: lineStart && depth == 0, atClause: clauseStart && depth == 0}
		lineStart, clauseStart = false, false
		switch {
		case isQuote(b):
			t.kind = lexString
			c.skipString()
		case isWordByte(b):
			t.kind, t.word = lexWord, c.word()
			if !c.eof() && isQuote(c.src[c.off]) && isStringPrefix(t.word) {
				t.kind, t.word = lexString, ""
				c.skipString()
			}
		default:
			t.kind = lexPunct
			switch b {
			case '(', '[', '{':
				depth++
			case ')', ']', '}':
				depth = max(depth-1, 0)
			case ':', ';':
				// A ':' at depth 0 ends a compound statement's header (or
				// a lambda's parameters, after which no statement follows).
				clauseStart = depth == 0
			}
			c.next()
		}
		if err := visit(t); err != nil {
			return err
		}
	}
	return nil
}

// findStarts returns, in source order, every decorator and import keyword
// that begins a statement, and every ".load" attribute. A decorator must
// begin a logical line; an import may also follow ";" or a block's ":" on
// one line ("if x: import os").
func findStarts(src []byte) []stmtStart {
	var starts []stmtStart
	_ = walkLines(src, func(t lexTok) error {
		switch {
		case t.kind == lexPunct && t.b == '@' && t.atLine:
			starts = append(starts, stmtStart{startDecorator, t.pos})
		case t.kind != lexWord:
		case t.atClause && t.word == "import":
			starts = append(starts, stmtStart{startImport, t.pos})
		case t.atClause && t.word == "from":
			starts = append(starts, stmtStart{startFrom, t.pos})
		case t.word == "load" && t.pos.off > 0 && src[t.pos.off-1] == '.':
			starts = append(starts, stmtStart{startLoadAttr, t.pos})
		}
		return nil
	})
	return starts
}

// An importStmt is one parsed import statement.
//
//	import a.b as c, d      module == nil, names = [{a.b, c}, {d}]
//	from a.b import x as y  module = a.b, names = [{x, y}]
//	from a.b import *       module = a.b, star
type importStmt struct {
	pos    srcPos    // the "import" or "from" keyword
	end    int       // offset just past the statement
	module *dotted   // the "from" module; nil for "import"
	star   bool      // from m import *
	names  []aliased // imported modules (import) or names (from)
}

// A dotted is a name, possibly dotted ("parsl.app.app"), and where it starts.
type dotted struct {
	name string
	pos  srcPos
}

// An aliased is an imported name and its optional "as" alias.
type aliased struct {
	dotted
	alias *dotted // nil without "as"
}

// bound returns the name the import binds and where: the alias if any, else
// the name itself (for "import a.b", its first component "a").
func (a aliased) bound() dotted {
	if a.alias != nil {
		return *a.alias
	}
	for i := 0; i < len(a.name); i++ {
		if a.name[i] == '.' {
			return dotted{a.name[:i], a.pos}
		}
	}
	return a.dotted
}

// A scanError is a lexical or import-syntax error at a source position.
type scanError struct {
	pos srcPos
	msg string
}

// An itok is a token of an import statement. Kind is 'n' for a name, the
// character itself for punctuation, 0 for the end of the statement, and '?'
// for anything else.
type itok struct {
	kind byte
	text string
	pos  srcPos
}

func (t itok) String() string {
	if t.kind == 0 {
		return "end of statement"
	}
	return fmt.Sprintf("%q", t.text)
}

// An importParser reads one import statement's tokens.
type importParser struct {
	c     *cursor
	depth int  // inside "from m import ( ... )"
	tok   itok // current token
	end   int  // offset just past the last token consumed
}

// advance reads the next token into p.tok. Blanks, comments and line
// continuations are skipped; a line ending outside parentheses, a ";" or the
// end of the file ends the statement without being consumed.
func (p *importParser) advance() {
	c := p.c
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
		case b == '#' && p.depth > 0:
			c.skipComment()
			continue
		case isNewline(b) && p.depth > 0:
			c.next()
			continue
		case isNewline(b) || b == '#' || b == ';':
			p.tok = itok{pos: c.srcPos}
			return
		}
		pos := c.srcPos
		if isWordByte(b) && !('0' <= b && b <= '9') {
			p.tok = itok{kind: 'n', text: c.word(), pos: pos}
		} else {
			c.next()
			kind := b
			switch b {
			case '.', ',', '(', ')', '*':
			default:
				kind = '?'
			}
			p.tok = itok{kind: kind, text: string(c.src[pos.off:c.off]), pos: pos}
		}
		p.end = c.off
		return
	}
	p.tok = itok{pos: c.srcPos}
}

func (p *importParser) errorf(format string, args ...any) *scanError {
	return &scanError{p.tok.pos, fmt.Sprintf(format, args...)}
}

// name consumes a plain name.
func (p *importParser) name(want string) (dotted, *scanError) {
	t := p.tok
	if t.kind != 'n' || !isIdentifier(t.text) {
		return dotted{}, p.errorf("got %s, want %s", t, want)
	}
	p.advance()
	return dotted{t.text, t.pos}, nil
}

// dottedName consumes a module path such as parsl.app.app.
func (p *importParser) dottedName() (dotted, *scanError) {
	if p.tok.kind == '.' {
		return dotted{}, p.errorf("relative imports are not supported; " +
			`use load("./file.star", "name") for a Starlark file`)
	}
	d, err := p.name("module name")
	for err == nil && p.tok.kind == '.' {
		p.advance()
		var part dotted
		part, err = p.name("module name after \".\"")
		d.name += "." + part.name
	}
	return d, err
}

// alias consumes an optional "as NAME".
func (p *importParser) alias() (*dotted, *scanError) {
	if p.tok.kind != 'n' || p.tok.text != "as" {
		return nil, nil
	}
	p.advance()
	d, err := p.name("name after \"as\"")
	return &d, err
}

// parseImport parses the import statement whose keyword is at start.
func parseImport(src []byte, start stmtStart) (*importStmt, *scanError) {
	c := &cursor{src: src, srcPos: start.pos}
	p := &importParser{c: c}
	p.advance() // the keyword
	p.advance()
	imp := &importStmt{pos: start.pos}
	var err *scanError
	if start.kind == startImport {
		err = p.importNames(imp)
	} else {
		err = p.fromNames(imp)
	}
	if err == nil && p.tok.kind != 0 {
		err = p.errorf("got %s, want end of import statement", p.tok)
	}
	imp.end = p.end
	return imp, err
}

// importNames parses the rest of "import a.b as c, d".
func (p *importParser) importNames(imp *importStmt) *scanError {
	for {
		d, err := p.dottedName()
		if err != nil {
			return err
		}
		a := aliased{dotted: d}
		if a.alias, err = p.alias(); err != nil {
			return err
		}
		imp.names = append(imp.names, a)
		if p.tok.kind != ',' {
			return nil
		}
		p.advance()
	}
}

// fromNames parses the rest of "from m import x as y, z", with the names
// optionally in parentheses (and then over several lines), or "from m import *".
func (p *importParser) fromNames(imp *importStmt) *scanError {
	m, err := p.dottedName()
	if err != nil {
		return err
	}
	imp.module = &m
	if p.tok.kind != 'n' || p.tok.text != "import" {
		return p.errorf("got %s, want \"import\"", p.tok)
	}
	p.advance()
	if p.tok.kind == '*' {
		imp.star = true
		p.advance()
		return nil
	}
	paren := p.tok.kind == '('
	if paren {
		p.depth++
		p.advance()
	}
	for {
		d, err := p.name("name to import")
		if err != nil {
			return err
		}
		a := aliased{dotted: d}
		if a.alias, err = p.alias(); err != nil {
			return err
		}
		imp.names = append(imp.names, a)
		if p.tok.kind != ',' {
			break
		}
		p.advance()
		if paren && p.tok.kind == ')' {
			break // trailing comma
		}
	}
	if paren {
		if p.tok.kind != ')' {
			return p.errorf("got %s, want \",\" or \")\"", p.tok)
		}
		p.depth--
		p.advance()
	}
	return nil
}

// isIdentifier reports whether s is a name that can be bound: an identifier
// that is not one of Starlark's or Python's keywords.
func isIdentifier(s string) bool {
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return s != "" && !keywords[s]
}

var keywords = map[string]bool{
	"and": true, "as": true, "assert": true, "async": true, "await": true,
	"break": true, "class": true, "continue": true, "def": true, "del": true,
	"elif": true, "else": true, "except": true, "finally": true, "for": true,
	"from": true, "global": true, "if": true, "import": true, "in": true,
	"is": true, "lambda": true, "nonlocal": true, "not": true,
	"or": true, "pass": true, "raise": true, "return": true, "try": true,
	"while": true, "with": true, "yield": true,
	"None": true, "True": true, "False": true,
}
