package interp

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// An f-string becomes a call of _sf_fstring with a str.format template
// and the field expressions, which stay where the user wrote them (so
// their errors point into the f-string):
//
//	f"{name!r:>10} has {n:{w}d} items"
//	_sf_fstring("{0!r:>10} has {1:{2}d} items", (name), (n), (w))
//
// The template keeps the literal's quotes and raw prefix, so Starlark
// reads its escapes as Python read the f-string's. The rules are Python
// 3.11's: the literal ends at its closing quote; an expression holds no
// backslash, no comment, and no quote of the enclosing kind.

var (
	doubleBraces   = strings.NewReplacer("{", "{{", "}", "}}")
	undoubleBraces = strings.NewReplacer("{{", "{", "}}", "}")
)

// An fparser reads the body of one f-string into a template.
type fparser struct {
	x     *exprLowering
	tok   *xtok
	raw   bool
	i     int // offset in the source
	end   int // end of the body
	tmpl  []byte
	exprs [][2]int // offsets of each field's expression
	err   bool
}

func (x *exprLowering) fstring(t *xtok, qi quoteInfo) {
	p := &fparser{x: x, tok: t, raw: strings.ContainsAny(qi.prefix, "rR"), i: qi.bodyOff, end: qi.bodyEnd}
	p.body()
	if p.err {
		return
	}
	prefix := ""
	if p.raw {
		prefix = "r"
	}
	if len(p.exprs) == 0 {
		// No fields: a plain literal, its doubled braces made single.
		lit := undoubleBraces.Replace(string(p.tmpl))
		x.replace(t.off, t.end, prefix+qi.quote+lit+qi.quote)
		return
	}
	x.replace(t.off, p.exprs[0][0], "_sf_fstring("+prefix+qi.quote+string(p.tmpl)+qi.quote+", (")
	for i := 1; i < len(p.exprs); i++ {
		x.replace(p.exprs[i-1][1], p.exprs[i][0], "), (")
	}
	x.replace(p.exprs[len(p.exprs)-1][1], t.end, "))")
	for _, e := range p.exprs {
		x.lower(tokenize(x.src, e[0], e[1], 1))
	}
}

// fail reports a malformed f-string, quoting it.
func (p *fparser) fail(off int, problem string) {
	text := string(p.x.src[p.tok.off:p.tok.end])
	if utf8.RuneCountInString(text) > 40 {
		text = string([]rune(text)[:37]) + "..."
	}
	p.x.fail(p.tok.off, off, "f-string: "+problem+" in "+text)
	p.err = true
}

// body reads literal text and fields up to the end of the literal.
func (p *fparser) body() {
	src := p.x.src
	for p.i < p.end && !p.err {
		c := src[p.i]
		switch {
		case c == '\\' && !p.raw:
			p.escape()
		case c == '{' && p.i+1 < p.end && src[p.i+1] == '{', c == '}' && p.i+1 < p.end && src[p.i+1] == '}':
			p.tmpl = append(p.tmpl, c, c)
			p.i += 2
		case c == '{':
			p.field(0)
		case c == '}':
			p.fail(p.i, "single '}' is not allowed")
		default:
			p.tmpl = append(p.tmpl, c)
			p.i++
		}
	}
}

// escape copies a backslash escape, doubling the backslash of one
// Starlark does not know (Python keeps "\d" as written).
func (p *fparser) escape() {
	src := p.x.src
	if p.i+1 >= p.end {
		p.tmpl = append(p.tmpl, '\\')
		p.i++
		return
	}
	c := src[p.i+1]
	if c == 'N' {
		p.x.fail(p.tok.off, p.i, namedEscape)
		p.err = true
		return
	}
	if !isStarlarkEscape(c) {
		p.tmpl = append(p.tmpl, '\\')
	}
	p.tmpl = append(p.tmpl, '\\', c)
	p.i += 2
}

// field reads one replacement field, {expr[=][!c][:spec]}, at p.i, and
// writes its template form {N[!c][:spec]}. nest counts the fields of
// format specs it is inside.
func (p *fparser) field(nest int) {
	src := p.x.src
	open := p.i
	p.i++
	start := p.i
	selfDoc := p.exprEnd()
	if p.err {
		return
	}
	if p.i >= p.end {
		p.fail(open, "unterminated '{'")
		return
	}
	end := p.i
	if strings.TrimSpace(string(src[start:end])) == "" {
		p.fail(open, "empty expression not allowed")
		return
	}
	if selfDoc {
		// {x=}: the expression's text, then its value.
		p.i++
		for p.i < p.end && (src[p.i] == ' ' || src[p.i] == '\t') {
			p.i++
		}
		p.tmpl = append(p.tmpl, doubleBraces.Replace(string(src[start:p.i]))...)
	}
	p.tmpl = append(p.tmpl, '{')
	p.tmpl = strconv.AppendInt(p.tmpl, int64(len(p.exprs)), 10)
	p.exprs = append(p.exprs, [2]int{start, end})
	conv := false
	if p.i < p.end && src[p.i] == '!' {
		if p.i+1 >= p.end {
			p.fail(open, "unterminated '{'")
			return
		}
		c := src[p.i+1]
		if c != 's' && c != 'r' && c != 'a' {
			p.fail(p.i+1, "invalid conversion character: expected 's', 'r', or 'a'")
			return
		}
		p.tmpl = append(p.tmpl, '!', c)
		p.i += 2
		conv = true
	}
	if p.i < p.end && src[p.i] == ':' {
		p.tmpl = append(p.tmpl, ':')
		p.i++
		for p.i < p.end && src[p.i] != '}' && !p.err {
			switch c := src[p.i]; {
			case c == '{':
				if nest > 0 {
					p.fail(p.i, "expressions nested too deeply")
					return
				}
				p.field(nest + 1)
			case c == '\\' && !p.raw:
				p.escape()
			default:
				p.tmpl = append(p.tmpl, c)
				p.i++
			}
		}
		if p.err {
			return
		}
	} else if selfDoc && !conv {
		p.tmpl = append(p.tmpl, '!', 'r') // {x=} shows repr(x), as Python does
	}
	if p.i >= p.end || src[p.i] != '}' {
		if p.i < p.end {
			p.fail(p.i, "expecting '}'")
		} else {
			p.fail(open, "unterminated '{'")
		}
		return
	}
	p.tmpl = append(p.tmpl, '}')
	p.i++
}

// exprEnd advances p.i over a field's expression, to the "!", ":", "="
// or "}" that ends it, and reports whether it ended at a self-documenting
// "=".
func (p *fparser) exprEnd() bool {
	src := p.x.src
	depth := 0
	for ; p.i < p.end; p.i++ {
		c := src[p.i]
		next := byte(0)
		if p.i+1 < p.end {
			next = src[p.i+1]
		}
		switch c {
		case '\'', '"':
			p.skipQuoted()
			if p.err {
				return false
			}
			p.i-- // the loop steps past the closing quote
		case '(', '[', '{':
			depth++
		case ')', ']':
			if depth == 0 {
				p.fail(p.i, "unmatched '"+string(c)+"'")
				return false
			}
			depth--
		case '}':
			if depth == 0 {
				return false
			}
			depth--
		case '\\':
			p.fail(p.i, "expression part cannot include a backslash")
			return false
		case '#':
			p.fail(p.i, "expression part cannot include '#'")
			return false
		case '!':
			if depth == 0 && next != '=' {
				return false
			}
			p.i++ // "!="
		case ':':
			if depth == 0 {
				return false
			}
		case '=':
			if depth == 0 {
				prev := src[p.i-1]
				if next == '=' {
					p.i++
				} else if prev != '=' && prev != '!' && prev != '<' && prev != '>' {
					return true
				}
			}
		case '<', '>':
			if next == '=' {
				p.i++
			}
		}
	}
	return false
}

// skipQuoted moves p.i past a string literal inside a field expression.
func (p *fparser) skipQuoted() {
	src := p.x.src
	q := src[p.i]
	n := 1
	if p.i+2 < p.end && src[p.i+1] == q && src[p.i+2] == q {
		n = 3
	}
	closing := strings.Repeat(string(q), n)
	j := strings.Index(string(src[p.i+n:p.end]), closing)
	if j < 0 {
		p.fail(p.i, "unterminated string in expression")
		return
	}
	p.i += n + j + n
}
