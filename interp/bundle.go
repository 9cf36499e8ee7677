package interp

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"

	"go.starlark.net/starlark"
)

// A Bundle is an app's code as it travels to a worker on another node: by
// value, never by reference to the submitting process. It holds the
// script's text with every line the app cannot reach blanked out (so the
// lines that remain keep the user's numbers and errors on the worker point
// at the user's text), the values of the constants the app reads, and the
// libraries it loads. Bundles are identified by hash; a worker compiles
// each one once.
type Bundle struct {
	Hash [32]byte
	Data []byte // JSON of bundleData
}

type bundleData struct {
	File   string            `json:"file"`
	Source string            `json:"source"`
	Entry  string            `json:"entry"`
	Consts map[string][]byte `json:"consts,omitempty"` // codec-encoded values
	Libs   map[string]string `json:"libs,omitempty"`   // load() module -> source
}

// Bundle returns the code bundle of fn, a function this program compiled.
// A global the function reads that cannot travel (a future, an open file)
// is an error naming it.
func (p *Program) Bundle(fn *starlark.Function) (*Bundle, error) {
	ix, ok := p.code[fn.Position().Filename()]
	if !ok {
		return nil, fmt.Errorf("%s: not defined in a script or library starflow compiled", fn.Name())
	}
	pos := fn.Position()
	entry, ok := ix.byPos[[2]int32{pos.Line, pos.Col}]
	if !ok {
		return nil, fmt.Errorf("%s: only functions defined with def at top level can run remotely", fn.Name())
	}
	globals := fn.Globals()
	keep := map[int32]bool{}
	keepRange := func(r [2]int32) {
		for l := r[0]; l <= r[1]; l++ {
			keep[l] = true
		}
	}
	for _, r := range ix.loadLines {
		keepRange(r)
	}
	data := bundleData{File: ix.path, Entry: entry.name, Consts: map[string][]byte{}, Libs: map[string]string{}}
	seen := map[string]bool{}
	todo := []*defInfo{entry}
	for len(todo) > 0 {
		d := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[d.name] {
			continue
		}
		seen[d.name] = true
		keepRange(d.lines)
		for _, ref := range d.refs {
			switch {
			case ix.defs[ref] != nil:
				todo = append(todo, ix.defs[ref])
			case ix.loads[ref] != "":
				if lib := p.librarySource(ix.loads[ref]); lib != nil {
					data.Libs[ix.loads[ref]] = string(lib)
				}
			default:
				if seen[ref] {
					continue
				}
				seen[ref] = true
				if err := ix.bundleConst(ref, globals, &data, keepRange); err != nil {
					return nil, fmt.Errorf("%s: %w", fn.Name(), err)
				}
			}
		}
	}
	data.Source = blankExcept(ix.src, keep)
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", fn.Name(), err)
	}
	return &Bundle{Hash: sha256.Sum256(raw), Data: raw}, nil
}

// bundleConst adds a global the app reads: its value when it encodes, or
// the statements defining it when it is a function (name = lambda ...).
func (ix *codeIndex) bundleConst(name string, globals starlark.StringDict, data *bundleData, keep func([2]int32)) error {
	v, ok := globals[name]
	if !ok || v == nil {
		return nil // not bound at top level (yet): the worker says undefined
	}
	if b, err := ix.codec.Marshal(v); err == nil {
		data.Consts[name] = b
		return nil
	}
	if _, isFn := v.(*starlark.Function); isFn {
		for _, r := range ix.constLines[name] {
			keep(r)
		}
		return nil
	}
	return fmt.Errorf("global %s (a %s) cannot travel to a remote worker; pass it as an argument or compute it inside the app", name, v.Type())
}

// librarySource is the text of a loaded library, by its load() module.
func (p *Program) librarySource(module string) []byte {
	for _, ix := range p.code {
		if ix.path == module {
			return ix.src
		}
	}
	return nil
}

// blankExcept returns src with every line not in keep emptied; line
// numbers and columns of kept lines do not move.
func blankExcept(src []byte, keep map[int32]bool) string {
	lines := bytes.SplitAfter(src, []byte("\n"))
	var b bytes.Buffer
	b.Grow(len(src) / 2)
	for i, l := range lines {
		if keep[int32(i+1)] {
			b.Write(l)
		} else if bytes.HasSuffix(l, []byte("\n")) {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// bundleNames lists a bundle's constants, for messages and tests.
func (d *bundleData) constNames() []string {
	out := make([]string, 0, len(d.Consts))
	for n := range d.Consts {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// LoadBundle compiles a bundle on a worker and returns its entry function.
// predeclared is what scripts see (builtins.Predeclared and the rest); the
// bundle's constants are added to it. Libraries come from the bundle.
func LoadBundle(data []byte, predeclared starlark.StringDict, thread *starlark.Thread) (*starlark.Function, error) {
	var d bundleData
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	pre := make(starlark.StringDict, len(predeclared)+len(d.Consts))
	for k, v := range predeclared {
		pre[k] = v
	}
	c := newCodeIndex("", nil, nil).codec
	for _, name := range d.constNames() {
		v, err := c.Unmarshal(d.Consts[name])
		if err != nil {
			return nil, fmt.Errorf("bundle %s: constant %s: %w", d.Entry, name, err)
		}
		pre[name] = v
	}
	libs := map[string]starlark.StringDict{}
	var load func(t *starlark.Thread, module string) (starlark.StringDict, error)
	load = func(t *starlark.Thread, module string) (starlark.StringDict, error) {
		if g, ok := libs[module]; ok {
			return g, nil
		}
		src, ok := d.Libs[module]
		if !ok {
			return nil, fmt.Errorf("bundle %s: library %s was not sent", d.Entry, module)
		}
		f, err := Parse(module, []byte(src), FileOptions(), Modules())
		if err != nil {
			return nil, err
		}
		prog, err := starlark.FileProgram(f, predeclared.Has)
		if err != nil {
			return nil, err
		}
		g, err := prog.Init(t, predeclared)
		g.Freeze()
		libs[module] = g
		return g, err
	}
	thread.Load = load
	f, err := Parse(d.File, []byte(d.Source), FileOptions(), Modules())
	if err != nil {
		return nil, err
	}
	prog, err := starlark.FileProgram(f, pre.Has)
	if err != nil {
		return nil, err
	}
	globals, err := prog.Init(thread, pre)
	if err != nil {
		return nil, err
	}
	globals.Freeze()
	fn, ok := globals[d.Entry].(*starlark.Function)
	if !ok {
		return nil, fmt.Errorf("bundle: %s is not a function", d.Entry)
	}
	return fn, nil
}
