package re

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

// Match is a successful match, as Python's re.Match. Positions are byte
// offsets, as Starlark indexes strings.
type Match struct {
	p   *Pattern
	sub subject
	idx []int // Go's submatch index pairs, -1 for a group that did not match
}

var (
	_ starlark.HasAttrs = (*Match)(nil)
	_ starlark.Mapping  = (*Match)(nil)
)

func newMatch(p *Pattern, sub subject, idx []int) *Match {
	return &Match{p: p, sub: sub, idx: idx}
}

func (m *Match) String() string {
	return fmt.Sprintf("<re.Match object; span=(%d, %d), match=%s>", m.idx[0], m.idx[1], pyerr.Repr(m.sub.s[m.idx[0]:m.idx[1]]))
}
func (m *Match) Type() string          { return "re.Match" }
func (m *Match) Freeze()               {}
func (m *Match) Truth() starlark.Bool  { return true }
func (m *Match) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: re.Match") }

// Get is m[g], the same as m.group(g).
func (m *Match) Get(k starlark.Value) (starlark.Value, bool, error) {
	g, err := m.groupIndex(k)
	if err != nil {
		return nil, false, err
	}
	return m.group(g), true, nil
}

// groupIndex resolves a group given by number or name.
func (m *Match) groupIndex(k starlark.Value) (int, error) {
	n := len(m.idx)/2 - 1
	switch k := k.(type) {
	case starlark.Int:
		g, ok := k.Int64()
		if ok && g >= 0 && g <= int64(n) {
			return int(g), nil
		}
	case starlark.String:
		if g := m.p.main.SubexpIndex(string(k)); g >= 0 {
			return g, nil
		}
	}
	return 0, pyerr.New("IndexError", "", "no such group")
}

// group is a group's text, or None if it did not take part.
func (m *Match) group(g int) starlark.Value {
	if m.idx[2*g] < 0 {
		return starlark.None
	}
	return starlark.String(m.sub.s[m.idx[2*g]:m.idx[2*g+1]])
}

func (m *Match) AttrNames() []string {
	return []string{"end", "endpos", "expand", "group", "groupdict", "groups", "lastgroup", "lastindex",
		"pos", "re", "span", "start", "string"}
}

func (m *Match) Attr(name string) (starlark.Value, error) {
	switch name {
	case "string":
		return starlark.String(m.sub.s), nil
	case "re":
		return m.p, nil
	case "pos":
		return starlark.MakeInt(m.sub.pos), nil
	case "endpos":
		return starlark.MakeInt(m.sub.endpos), nil
	case "lastindex", "lastgroup":
		return m.last(name == "lastgroup"), nil
	}
	var fn func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)
	switch name {
	case "group":
		fn = m.groupMethod
	case "groups":
		fn = m.groupsMethod
	case "groupdict":
		fn = m.groupdict
	case "start", "end", "span":
		fn = m.position
	case "expand":
		fn = m.expand
	default:
		return nil, nil
	}
	return starlark.NewBuiltin(name, fn), nil
}

// last is lastindex (or lastgroup): the group that closed last, which
// for Go's submatches is the matched group ending last and, among those,
// the outermost.
func (m *Match) last(wantName bool) starlark.Value {
	best := -1
	for g := 1; g < len(m.idx)/2; g++ {
		if m.idx[2*g] < 0 {
			continue
		}
		if best < 0 || m.idx[2*g+1] > m.idx[2*best+1] {
			best = g
		}
	}
	if best < 0 {
		return starlark.None
	}
	if wantName {
		if name := m.p.main.SubexpNames()[best]; name != "" {
			return starlark.String(name)
		}
		return starlark.None
	}
	return starlark.MakeInt(best)
}

func (m *Match) groupMethod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, pyerr.New("TypeError", b.Name(), "group() takes no keyword arguments")
	}
	if len(args) == 0 {
		return m.group(0), nil
	}
	out := make(starlark.Tuple, len(args))
	for i, a := range args {
		g, err := m.groupIndex(a)
		if err != nil {
			return nil, err
		}
		out[i] = m.group(g)
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (m *Match) groupsMethod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "default?", &def); err != nil {
		return nil, err
	}
	out := make(starlark.Tuple, len(m.idx)/2-1)
	for g := range out {
		if out[g] = m.group(g + 1); out[g] == starlark.None {
			out[g] = def
		}
	}
	return out, nil
}

func (m *Match) groupdict(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "default?", &def); err != nil {
		return nil, err
	}
	d := new(starlark.Dict)
	for g, name := range m.p.main.SubexpNames() {
		if name == "" {
			continue
		}
		v := m.group(g)
		if v == starlark.None {
			v = def
		}
		d.SetKey(starlark.String(name), v)
	}
	return d, nil
}

// position is start(g=0), end(g=0) and span(g=0); -1 for a group that
// did not take part.
func (m *Match) position(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var gv starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &gv); err != nil {
		return nil, err
	}
	g, err := m.groupIndex(gv)
	if err != nil {
		return nil, err
	}
	start, end := starlark.MakeInt(m.idx[2*g]), starlark.MakeInt(m.idx[2*g+1])
	switch b.Name() {
	case "start":
		return start, nil
	case "end":
		return end, nil
	}
	return starlark.Tuple{start, end}, nil
}

func (m *Match) expand(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var repl string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &repl); err != nil {
		return nil, err
	}
	t, err := parseTemplate(b.Name(), repl, m.p)
	if err != nil {
		return nil, err
	}
	return starlark.String(t.expand(m.sub.s, m.idx)), nil
}
