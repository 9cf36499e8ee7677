package interp

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/syntax"
)

// A Problem is one reason a script would not run, at the user's line and
// column.
type Problem struct {
	Pos syntax.Position
	Msg string
}

func (p Problem) Error() string {
	if p.Pos.Line == 0 {
		if f := p.Pos.Filename(); f != "" {
			return f + ": " + p.Msg
		}
		return p.Msg
	}
	return p.Pos.String() + ": " + p.Msg
}

// Problems are all the problems Compile found, file by file (the script
// first, then its libraries in the order they are loaded), each file's in
// the order of their positions. A file that does not parse has one: the
// first syntax error.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// A CheckedFile is one file Check compiled: the script or a library.
type CheckedFile struct {
	File       string   // as positions name it
	Module     string   // the canonical module name; the script's path for the script
	Hash       [32]byte // a library's content hash; zero if it did not compile
	Constructs []Construct
}

// A Construct is a piece of the Parsl dialect the front end found in a
// file and rewrote or resolved: a decorator, an import, an attribute
// named load, a load statement. (The expression and statement passes do
// not report what they lower.)
type Construct struct {
	Pos  syntax.Position
	What string
}

// Check compiles the script at path and every library it loads, as
// Compile does, without running anything, and reports what it found in
// each file. The error, if any, is Problems (or the script could not be
// read).
func Check(path string, opts ...Option) ([]CheckedFile, error) {
	src, err := readScript(path)
	if err != nil {
		return nil, err
	}
	k, err := link(path, src, newEnvironment([]string{path}).names, opts)
	if k == nil {
		return nil, err
	}
	files := make([]CheckedFile, len(k.order))
	for i, lib := range k.order {
		files[i] = CheckedFile{File: lib.file, Module: lib.name, Constructs: lib.allConstructs()}
		if lib.prog != nil {
			files[i].Hash = lib.hash
		}
	}
	return files, err
}

// recordConstructs lists what lowering found in lib's text and, from the
// tree when it parsed, which def each decorator wraps and the loads the
// user wrote. It runs before rewriteImports adds loads of its own.
func (k *linker) recordConstructs(lib *library, f *syntax.File) {
	decorated := map[lineCol]string{}
	if f != nil {
		syntax.Walk(f, func(n syntax.Node) bool {
			if as, ok := n.(*syntax.AssignStmt); ok {
				if id, ok := as.LHS.(*syntax.Ident); ok {
					decorated[keyOf(as.OpPos)] = id.Name
				}
			}
			return true
		})
	}
	at := func(p srcPos) syntax.Position { return syntax.MakePosition(&lib.file, p.line, p.col) }
	for _, s := range findStarts(lib.src) {
		key := lineCol{s.pos.line, s.pos.col}
		switch s.kind {
		case startDecorator:
			what := "decorator " + firstLine(lib.src[s.pos.off:])
			if name := decorated[key]; name != "" {
				what += " on def " + name
			}
			lib.constructs = append(lib.constructs, Construct{at(s.pos), what})
		case startLoadAttr:
			lib.constructs = append(lib.constructs, Construct{at(s.pos),
				"attribute .load, spelt ." + LoadAttr + " (load is a Starlark keyword)"})
		case startImport, startFrom:
			imp, err := parseImport(lib.src, s)
			if err != nil {
				continue
			}
			what := "import: " + strings.Join(strings.Fields(string(lib.src[s.pos.off:imp.end])), " ")
			if name := lib.imports[key]; name != "" {
				what += " (library " + name + ")"
			}
			lib.constructs = append(lib.constructs, Construct{at(s.pos), what})
		}
	}
	if f != nil {
		for _, stmt := range f.Stmts {
			if ld, ok := stmt.(*syntax.LoadStmt); ok {
				lib.userLoads = append(lib.userLoads, userLoad{ld.Load, ld.ModuleName()})
			}
		}
	}
}

// A userLoad is a load statement as the user wrote it, for Check.
type userLoad struct {
	pos    syntax.Position
	module string
}

// constructs is everything recordConstructs found in lib, with the loads
// described as linking resolved them, in order of position.
func (lib *library) allConstructs() []Construct {
	out := append([]Construct(nil), lib.constructs...)
	for _, ld := range lib.userLoads {
		what := fmt.Sprintf("load %q", ld.module)
		switch dep := lib.byModule[ld.module]; {
		case dep == nil:
			what += ": not found"
		case dep.file != dep.name:
			what += ": " + dep.name + " (" + dep.file + ")"
		default:
			what += ": " + dep.name
		}
		out = append(out, Construct{ld.pos, what})
	}
	sort.SliceStable(out, func(i, j int) bool { return posLess(out[i].Pos, out[j].Pos) })
	return out
}

// firstLine is text up to its end of line, without surrounding blanks.
func firstLine(text []byte) string {
	if i := bytes.IndexAny(text, "\r\n"); i >= 0 {
		text = text[:i]
	}
	return string(bytes.TrimSpace(text))
}
