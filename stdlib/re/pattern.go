package re

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Pattern is a compiled regular expression, as re.compile returns it.
type Pattern struct {
	pattern string
	t       *translation
	main    *regexp.Regexp // unanchored, "$" as end of text

	mu       sync.Mutex
	variants map[variant]*regexp.Regexp
}

// A variant is one Go regexp for a Python pattern: anchored or not, and
// with "$" as end of text or as end of line.
type variant struct {
	anchor   int // 0 search, 1 match (at the start), 2 fullmatch
	lineMode bool
}

var (
	_ starlark.HasAttrs   = (*Pattern)(nil)
	_ starlark.Comparable = (*Pattern)(nil)
)

func compile(pattern string, flags int) (*Pattern, error) {
	t, err := translate(pattern, flags)
	if err != nil {
		return nil, pyerr.New("error", "re.compile", "%v", err)
	}
	p := &Pattern{pattern: pattern, t: t, variants: map[variant]*regexp.Regexp{}}
	if p.main, err = p.build(variant{}); err != nil {
		return nil, pyerr.New("error", "re.compile", "%s (pattern %q)", strings.TrimPrefix(err.Error(), "error parsing regexp: "), pattern)
	}
	return p, nil
}

func (p *Pattern) build(v variant) (*regexp.Regexp, error) {
	dollar := `\z`
	if v.lineMode {
		dollar = `(?m:$)`
	}
	body := strings.ReplaceAll(p.t.goSyntax, dollarMark, dollar)
	switch v.anchor {
	case 1:
		body = `\A(?:` + body + `)`
	case 2:
		body = `\A(?:` + body + `)\z`
	}
	var prefix string
	for _, f := range []struct {
		bit    int
		letter string
	}{{flagI, "i"}, {flagM, "m"}, {flagS, "s"}} {
		if p.t.flags&f.bit != 0 {
			prefix += f.letter
		}
	}
	if prefix != "" {
		body = "(?" + prefix + ")" + body
	}
	return regexp.Compile(body)
}

// regexpFor is the Go regexp to run on s. A Python "$" (without
// MULTILINE) matches at the end and before a final newline: in a text
// whose only newline is its last character that is Go's multiline "$",
// and elsewhere it is taken as the end of the text.
func (p *Pattern) regexpFor(anchor int, s string) *regexp.Regexp {
	v := variant{anchor: anchor}
	if p.t.hasDollar {
		i := strings.IndexByte(s, '\n')
		v.lineMode = i >= 0 && i == len(s)-1
	}
	if v == (variant{}) {
		return p.main
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	re, ok := p.variants[v]
	if !ok {
		var err error
		if re, err = p.build(v); err != nil {
			// The pattern compiled unanchored; wrapping it in \A(?:...)
			// or changing "$" cannot make it invalid.
			panic(fmt.Sprintf("re: variant of %q: %v", p.pattern, err))
		}
		p.variants[v] = re
	}
	return re
}

func (p *Pattern) String() string {
	if p.t.flags == 0 {
		return "re.compile(" + pyerr.Repr(p.pattern) + ")"
	}
	return fmt.Sprintf("re.compile(%s, %s)", pyerr.Repr(p.pattern), flagNames(p.t.flags))
}

func flagNames(flags int) string {
	var names []string
	for _, f := range []struct {
		bit  int
		name string
	}{{flagI, "re.IGNORECASE"}, {flagM, "re.MULTILINE"}, {flagS, "re.DOTALL"}, {flagX, "re.VERBOSE"}, {flagA, "re.ASCII"}} {
		if flags&f.bit != 0 {
			names = append(names, f.name)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

func (p *Pattern) Type() string          { return "re.Pattern" }
func (p *Pattern) Freeze()               {}
func (p *Pattern) Truth() starlark.Bool  { return true }
func (p *Pattern) Hash() (uint32, error) { return starlark.String(p.pattern).Hash() }

func (p *Pattern) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	q := y.(*Pattern)
	eq := p.pattern == q.pattern && p.t.flags == q.t.flags
	switch op {
	case syntax.EQL:
		return eq, nil
	case syntax.NEQ:
		return !eq, nil
	}
	return false, fmt.Errorf("%s not supported for re.Pattern", op)
}

func (p *Pattern) AttrNames() []string {
	return []string{"findall", "finditer", "flags", "fullmatch", "groupindex", "groups", "match", "pattern",
		"search", "split", "sub", "subn"}
}

func (p *Pattern) Attr(name string) (starlark.Value, error) {
	switch name {
	case "pattern":
		return starlark.String(p.pattern), nil
	case "flags":
		return starlark.MakeInt(p.t.flags | flagU), nil
	case "groups":
		return starlark.MakeInt(p.main.NumSubexp()), nil
	case "groupindex":
		d := new(starlark.Dict)
		names := p.main.SubexpNames()
		idx := make([]int, 0, len(names))
		for i, n := range names {
			if n != "" {
				idx = append(idx, i)
			}
		}
		sort.Ints(idx)
		for _, i := range idx {
			d.SetKey(starlark.String(names[i]), starlark.MakeInt(i))
		}
		return d, nil
	}
	if m := patternMethod(name); m != nil {
		return starlark.NewBuiltin(name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return m(thread, b.Name(), p, args, kwargs)
		}), nil
	}
	return nil, nil
}

// subject is the text a search runs on: string[:endpos], and pos.
type subject struct {
	s      string
	pos    int
	endpos int
}

func subjectArgs(op string, args starlark.Tuple, kwargs []starlark.Tuple) (subject, error) {
	var s string
	pos := 0
	var endpos starlark.Value = starlark.None
	if err := starlark.UnpackArgs(op, args, kwargs, "string", &s, "pos?", &pos, "endpos?", &endpos); err != nil {
		return subject{}, err
	}
	sub := subject{s: s, pos: pos, endpos: len(s)}
	if endpos != starlark.None {
		e, err := starlark.AsInt32(endpos)
		if err != nil {
			return subject{}, err
		}
		sub.endpos = e
	}
	sub.endpos = min(max(sub.endpos, 0), len(s))
	sub.pos = min(max(sub.pos, 0), sub.endpos)
	return sub, nil
}

// find runs one search, match or fullmatch.
func (p *Pattern) find(anchor int, sub subject) starlark.Value {
	text := sub.s[:sub.endpos]
	idx := p.regexpFor(anchor, text).FindStringSubmatchIndex(text[sub.pos:])
	if idx == nil {
		return starlark.None
	}
	return newMatch(p, sub, offset(idx, sub.pos))
}

// findAll is every match from pos, as Go finds them.
func (p *Pattern) findAll(sub subject) [][]int {
	text := sub.s[:sub.endpos]
	all := p.regexpFor(0, text).FindAllStringSubmatchIndex(text[sub.pos:], -1)
	for i := range all {
		all[i] = offset(all[i], sub.pos)
	}
	return all
}

func offset(idx []int, by int) []int {
	for i := range idx {
		if idx[i] >= 0 {
			idx[i] += by
		}
	}
	return idx
}
