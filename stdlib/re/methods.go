package re

import (
	"strings"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

type patternFunc func(thread *starlark.Thread, op string, p *Pattern, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

func patternMethod(name string) patternFunc {
	switch name {
	case "search":
		return anchored(0)
	case "match":
		return anchored(1)
	case "fullmatch":
		return anchored(2)
	case "findall":
		return findall
	case "finditer":
		return finditer
	case "sub":
		return subMethod(false)
	case "subn":
		return subMethod(true)
	case "split":
		return split
	}
	return nil
}

func anchored(anchor int) patternFunc {
	return func(_ *starlark.Thread, op string, p *Pattern, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		sub, err := subjectArgs(op, args, kwargs)
		if err != nil {
			return nil, err
		}
		return p.find(anchor, sub), nil
	}
}

// group is the text of group g of a match, "" if it did not take part.
func group(s string, idx []int, g int) starlark.String {
	if idx[2*g] < 0 {
		return ""
	}
	return starlark.String(s[idx[2*g]:idx[2*g+1]])
}

func findall(_ *starlark.Thread, op string, p *Pattern, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sub, err := subjectArgs(op, args, kwargs)
	if err != nil {
		return nil, err
	}
	n := p.main.NumSubexp()
	var out []starlark.Value
	for _, idx := range p.findAll(sub) {
		switch n {
		case 0:
			out = append(out, group(sub.s, idx, 0))
		case 1:
			out = append(out, group(sub.s, idx, 1))
		default:
			t := make(starlark.Tuple, n)
			for g := 1; g <= n; g++ {
				t[g-1] = group(sub.s, idx, g)
			}
			out = append(out, t)
		}
	}
	return starlark.NewList(out), nil
}

func finditer(_ *starlark.Thread, op string, p *Pattern, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sub, err := subjectArgs(op, args, kwargs)
	if err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, idx := range p.findAll(sub) {
		out = append(out, newMatch(p, sub, idx))
	}
	return starlark.NewList(out), nil
}

func split(_ *starlark.Thread, op string, p *Pattern, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	maxsplit := 0
	if err := starlark.UnpackArgs(op, args, kwargs, "string", &s, "maxsplit?", &maxsplit); err != nil {
		return nil, err
	}
	return p.split(s, maxsplit), nil
}

// split is Python's: the pieces between matches, with each match's
// groups (None when unmatched) between them.
func (p *Pattern) split(s string, maxsplit int) starlark.Value {
	var out []starlark.Value
	last := 0
	for n, idx := range p.findAll(subject{s: s, endpos: len(s)}) {
		if maxsplit > 0 && n >= maxsplit {
			break
		}
		out = append(out, starlark.String(s[last:idx[0]]))
		for g := 1; g < len(idx)/2; g++ {
			if idx[2*g] < 0 {
				out = append(out, starlark.None)
			} else {
				out = append(out, group(s, idx, g))
			}
		}
		last = idx[1]
	}
	out = append(out, starlark.String(s[last:]))
	return starlark.NewList(out)
}

func subMethod(withCount bool) patternFunc {
	return func(thread *starlark.Thread, op string, p *Pattern, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var repl starlark.Value
		var s string
		count := 0
		if err := starlark.UnpackArgs(op, args, kwargs, "repl", &repl, "string", &s, "count?", &count); err != nil {
			return nil, err
		}
		return p.sub(thread, op, repl, s, count, withCount)
	}
}

// sub replaces matches (at most count of them, if count > 0) with repl:
// a template with \1, \g<name> and escapes, or a function of the match.
func (p *Pattern) sub(thread *starlark.Thread, op string, repl starlark.Value, s string, count int, withCount bool) (starlark.Value, error) {
	var expand func(idx []int) (string, error)
	switch r := repl.(type) {
	case starlark.String:
		tmpl, err := parseTemplate(op, string(r), p)
		if err != nil {
			return nil, err
		}
		expand = func(idx []int) (string, error) { return tmpl.expand(s, idx), nil }
	case starlark.Callable:
		sub := subject{s: s, endpos: len(s)}
		expand = func(idx []int) (string, error) {
			v, err := starlark.Call(thread, r, starlark.Tuple{newMatch(p, sub, idx)}, nil)
			if err != nil {
				return "", err
			}
			str, ok := v.(starlark.String)
			if !ok {
				return "", pyerr.New("TypeError", op, "expected str instance, %s found", v.Type())
			}
			return string(str), nil
		}
	default:
		return nil, pyerr.New("TypeError", op, "repl: got %s, want str or function", repl.Type())
	}
	var b strings.Builder
	last, n := 0, 0
	for _, idx := range p.findAll(subject{s: s, endpos: len(s)}) {
		if count > 0 && n >= count {
			break
		}
		text, err := expand(idx)
		if err != nil {
			return nil, err
		}
		b.WriteString(s[last:idx[0]])
		b.WriteString(text)
		last = idx[1]
		n++
	}
	b.WriteString(s[last:])
	if withCount {
		return starlark.Tuple{starlark.String(b.String()), starlark.MakeInt(n)}, nil
	}
	return starlark.String(b.String()), nil
}
