package interp

import (
	"errors"
	"reflect"
	"sort"

	"go.starlark.net/resolve"
	"go.starlark.net/syntax"
)

// Lowering rewrites Python text into Starlark text before parsing. Some
// rewrites keep every length (a decorator's "@" becomes "+"); others cannot
// ("try:" has no three-letter Starlark twin, an f-string becomes a call).
// An edit list records what replaced what, and a posMap built from it takes
// every position in the parsed tree, and in parse errors, back to the
// user's line and column. Text an edit inserted maps to where the replaced
// text began.

// An edit replaces src[off:end] with text.
type edit struct {
	off, end int
	text     string
}

// edits collects the rewrites of one source; they must not overlap.
type edits struct {
	src  []byte
	list []edit
}

// replace records that src[off:end] becomes text.
func (e *edits) replace(off, end int, text string) {
	e.list = append(e.list, edit{off, end, text})
}

// sameLength reports whether every edit keeps its length and line breaks,
// so positions need no mapping.
func (e *edits) sameLength() bool {
	for _, ed := range e.list {
		if len(ed.text) != ed.end-ed.off || countLines([]byte(ed.text)) != countLines(e.src[ed.off:ed.end]) {
			return false
		}
	}
	return true
}

func countLines(b []byte) int {
	n := 0
	for i, c := range b {
		if c == '\n' || c == '\r' && (i+1 == len(b) || b[i+1] != '\n') {
			n++
		}
	}
	return n
}

// apply returns the rewritten text and the map from its positions back to
// the source's. The map is nil when no edit moved anything.
func (e *edits) apply() ([]byte, *posMap) {
	if len(e.list) == 0 {
		return e.src, nil
	}
	sort.SliceStable(e.list, func(i, j int) bool { return e.list[i].off < e.list[j].off })
	out := make([]byte, 0, len(e.src)+64)
	if e.sameLength() {
		last := 0
		for _, ed := range e.list {
			out = append(out, e.src[last:ed.off]...)
			out = append(out, ed.text...)
			last = ed.end
		}
		return append(out, e.src[last:]...), nil
	}
	m := &posMap{}
	orig := newCursor(e.src)
	w := &mapWriter{m: m, out: out, line: 1, col: 1}
	for _, ed := range e.list {
		w.copyFrom(orig, ed.off)
		w.insert(ed.text, orig.srcPos)
		for orig.off < ed.end {
			orig.next()
		}
	}
	w.copyFrom(orig, len(e.src))
	return w.out, m
}

// posMap maps positions of the rewritten text to the source's: for each
// rewritten line, runs of columns and where they came from.
type posMap struct {
	lines [][]span // index: rewritten line - 1
}

// A span is a stretch of a rewritten line: columns from col on came from
// origLine:origCol on (moving along with them), or, when fixed, all from
// that one place (text an edit inserted).
type span struct {
	col, origLine, origCol int32
	fixed                  bool
}

type mapWriter struct {
	m         *posMap
	out       []byte
	line, col int32
}

func (w *mapWriter) addRun(r span) {
	for int(w.line) > len(w.m.lines) {
		w.m.lines = append(w.m.lines, nil)
	}
	w.m.lines[w.line-1] = append(w.m.lines[w.line-1], r)
}

// copyFrom copies the source up to offset end, keeping positions in step.
func (w *mapWriter) copyFrom(c *cursor, end int) {
	started := false
	for c.off < end {
		if !started {
			w.addRun(span{col: w.col, origLine: c.line, origCol: c.col})
			started = true
		}
		start := c.off
		line := c.line
		c.next()
		w.out = append(w.out, c.src[start:c.off]...)
		if c.line != line {
			w.line, w.col = w.line+1, 1
			started = false
		} else {
			w.col++
		}
	}
}

// insert writes text that stands for the source at at.
func (w *mapWriter) insert(text string, at srcPos) {
	if text == "" {
		return
	}
	w.addRun(span{col: w.col, origLine: at.line, origCol: at.col, fixed: true})
	tc := newCursor([]byte(text))
	for !tc.eof() {
		start, line := tc.off, tc.line
		tc.next()
		w.out = append(w.out, tc.src[start:tc.off]...)
		if tc.line != line {
			w.line, w.col = w.line+1, 1
			w.addRun(span{col: 1, origLine: at.line, origCol: at.col, fixed: true})
		} else {
			w.col++
		}
	}
}

// orig maps a rewritten line and column to the source's.
func (m *posMap) orig(line, col int32) (int32, int32) {
	if line < 1 || int(line) > len(m.lines) {
		return line, col
	}
	runs := m.lines[line-1]
	i := sort.Search(len(runs), func(i int) bool { return runs[i].col > col }) - 1
	if i < 0 {
		return line, col
	}
	r := runs[i]
	if r.fixed {
		return r.origLine, r.origCol
	}
	return r.origLine, r.origCol + (col - r.col)
}

var positionType = reflect.TypeOf(syntax.Position{})

// remapFile moves every position in the tree back to the source. It must
// run before the tree is resolved.
func (m *posMap) remapFile(f *syntax.File) {
	syntax.Walk(f, func(n syntax.Node) bool {
		m.remapNode(reflect.ValueOf(n))
		return true
	})
}

// remapNode fixes the Position fields of one node (not its children:
// syntax.Walk visits those).
func (m *posMap) remapNode(v reflect.Value) {
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	v = v.Elem()
	if v.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Type() == positionType && f.CanSet() {
			p := f.Interface().(syntax.Position)
			if p.IsValid() {
				p.Line, p.Col = m.orig(p.Line, p.Col)
				f.Set(reflect.ValueOf(p))
			}
		}
	}
}

// remapError moves the positions of parse and resolve errors.
func (m *posMap) remapError(err error) error {
	if m == nil || err == nil {
		return err
	}
	var se syntax.Error
	if errors.As(err, &se) {
		se.Pos.Line, se.Pos.Col = m.orig(se.Pos.Line, se.Pos.Col)
		return se
	}
	var el resolve.ErrorList
	if errors.As(err, &el) {
		out := make(resolve.ErrorList, len(el))
		for i, e := range el {
			e.Pos.Line, e.Pos.Col = m.orig(e.Pos.Line, e.Pos.Col)
			out[i] = e
		}
		return out
	}
	return err
}
