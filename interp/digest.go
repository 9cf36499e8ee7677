package interp

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sort"
	"sync"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/starflow-hpc/starflow/codec"
)

// codeIndex knows, for one compiled file, the text of each top-level def
// and constant and which globals each def refers to, so that an app's code
// digest covers exactly the code it can reach: editing the app, a helper
// it calls or a constant it reads changes the digest; editing anything
// else does not.
type codeIndex struct {
	path   string
	src    []byte
	hash   [32]byte              // of the whole file, for libraries
	defs   map[string]*defInfo   // top-level def by name
	byPos  map[[2]int32]*defInfo // any def (nested too) by its "def" keyword
	consts map[string][][]byte   // top-level assigned names: their statements' text
	loads  map[string]string     // names bound by load(): module path

	constLines map[string][][2]int32 // line ranges of the constants' statements
	loadLines  [][2]int32            // line ranges of load statements
	mu         sync.Mutex            // guards digests
	done       map[*defInfo][32]byte // computed digests
	codec      *codec.Codec
}

type defInfo struct {
	name  string
	lines [2]int32 // first and last line of the def, decorators excluded
	text  []byte   // the def's lines, decorators excluded (they are options)
	refs  []string // globals, loaded names and top-level defs it mentions, sorted
}

func newCodeIndex(path string, src []byte, f *syntax.File) *codeIndex {
	ix := &codeIndex{
		path:       path,
		src:        src,
		hash:       sha256.Sum256(src),
		constLines: map[string][][2]int32{},
		defs:       map[string]*defInfo{},
		byPos:      map[[2]int32]*defInfo{},
		consts:     map[string][][]byte{},
		loads:      map[string]string{},
		done:       map[*defInfo][32]byte{},
		codec:      codec.New(),
	}
	if f == nil {
		return ix
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	text := func(n syntax.Node) []byte {
		start, end := n.Span()
		var b []byte
		for l := start.Line; l <= end.Line && int(l) <= len(lines); l++ {
			if l >= 1 {
				b = append(b, lines[l-1]...)
			}
		}
		return b
	}
	for _, stmt := range f.Stmts {
		switch s := stmt.(type) {
		case *syntax.DefStmt:
			d := &defInfo{name: s.Name.Name, text: text(s), refs: globalRefs(s), lines: lineRange(s)}
			ix.defs[d.name] = d
			ix.indexNested(s, d, text)
		case *syntax.AssignStmt:
			for _, name := range assignedNames(s.LHS) {
				// A decorator's "f = app(f)" is not a constant: f is a def.
				ix.consts[name] = append(ix.consts[name], text(s))
				ix.constLines[name] = append(ix.constLines[name], lineRange(s))
			}
		case *syntax.LoadStmt:
			for _, id := range s.To {
				ix.loads[id.Name] = s.ModuleName()
			}
			ix.loadLines = append(ix.loadLines, lineRange(s))
		}
	}
	return ix
}

func lineRange(n syntax.Node) [2]int32 {
	start, end := n.Span()
	return [2]int32{start.Line, end.Line}
}

// indexNested records the def and every def inside it by position; a
// nested def's digest is that of the top-level def that holds it.
func (ix *codeIndex) indexNested(s *syntax.DefStmt, top *defInfo, text func(syntax.Node) []byte) {
	ix.byPos[[2]int32{s.Def.Line, s.Def.Col}] = top
	syntax.Walk(s, func(n syntax.Node) bool {
		if d, ok := n.(*syntax.DefStmt); ok && d != s {
			ix.byPos[[2]int32{d.Def.Line, d.Def.Col}] = top
		}
		if l, ok := n.(*syntax.LambdaExpr); ok {
			ix.byPos[[2]int32{l.Lambda.Line, l.Lambda.Col}] = top
		}
		return true
	})
}

// globalRefs lists the module-level names a def's body mentions.
func globalRefs(s *syntax.DefStmt) []string {
	seen := map[string]bool{}
	syntax.Walk(s, func(n syntax.Node) bool {
		id, ok := n.(*syntax.Ident)
		if !ok {
			return true
		}
		// Globals, and (as free variables of the def) names bound by load
		// statements, which are file-local at top level.
		if b, ok := id.Binding.(*resolve.Binding); ok && (b.Scope == resolve.Global || b.Scope == resolve.Free) && id.Name != s.Name.Name {
			seen[id.Name] = true
		}
		return true
	})
	refs := make([]string, 0, len(seen))
	for name := range seen {
		refs = append(refs, name)
	}
	sort.Strings(refs)
	return refs
}

func assignedNames(lhs syntax.Expr) []string {
	switch x := lhs.(type) {
	case *syntax.Ident:
		return []string{x.Name}
	case *syntax.TupleExpr:
		var out []string
		for _, e := range x.List {
			out = append(out, assignedNames(e)...)
		}
		return out
	case *syntax.ListExpr:
		var out []string
		for _, e := range x.List {
			out = append(out, assignedNames(e)...)
		}
		return out
	case *syntax.ParenExpr:
		return assignedNames(x.X)
	}
	return nil
}

// digest returns the code digest of fn, which must be defined in this
// file; ok is false if it is not (a function from elsewhere).
func (ix *codeIndex) digest(fn *starlark.Function, libHash func(module string) ([32]byte, bool)) ([32]byte, bool) {
	pos := fn.Position()
	d, ok := ix.byPos[[2]int32{pos.Line, pos.Col}]
	if !ok {
		return [32]byte{}, false
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.digestDef(d, fn.Globals(), libHash, map[*defInfo]bool{}), true
}

func (ix *codeIndex) digestDef(d *defInfo, globals starlark.StringDict, libHash func(string) ([32]byte, bool), visiting map[*defInfo]bool) [32]byte {
	if sum, ok := ix.done[d]; ok {
		return sum
	}
	visiting[d] = true
	h := sha256.New()
	fmt.Fprintf(h, "def %s\n%s\n", d.name, d.text)
	for _, ref := range d.refs {
		fmt.Fprintf(h, "ref %s\n", ref)
		switch {
		case ix.defs[ref] != nil:
			if dep := ix.defs[ref]; !visiting[dep] {
				sum := ix.digestDef(dep, globals, libHash, visiting)
				h.Write(sum[:])
			}
		case ix.loads[ref] != "":
			if sum, ok := libHash(ix.loads[ref]); ok {
				h.Write(sum[:])
			} else {
				fmt.Fprintf(h, "module %s\n", ix.loads[ref])
			}
		default:
			ix.writeConst(h, ref, globals)
		}
	}
	var sum [32]byte
	h.Sum(sum[:0])
	delete(visiting, d)
	if len(visiting) == 0 {
		// Only a digest computed outside a cycle is final.
		ix.done[d] = sum
	}
	return sum
}

// writeConst adds a constant to a digest: its value when it has one that
// encodes (so SCALE = int(argv[1]) keys on the number, not the text), else
// the text of the statements that assign it.
func (ix *codeIndex) writeConst(h interface{ Write([]byte) (int, error) }, name string, globals starlark.StringDict) {
	if v, ok := globals[name]; ok && v != nil {
		if b, err := ix.codec.AppendKey(nil, v); err == nil {
			h.Write([]byte("value "))
			h.Write(b)
			return
		}
	}
	for _, t := range ix.consts[name] {
		h.Write(t)
	}
}
