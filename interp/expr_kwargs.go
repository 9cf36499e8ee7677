package interp

import "fmt"

// Python lets keyword arguments follow *args (print(*xs, sep="-"));
// Starlark does not. The keyword arguments after the first *args become
// one **{...} argument, which Starlark accepts there and which passes the
// same names and values:
//
//	f(a, *xs, sep="-", end="")  ->  f(a, *xs, **{"sep": "-", "end": ""})
//
// Only the names and "=" are rewritten, so edits inside the values (an
// f-string, say) do not overlap.
func (x *exprLowering) kwargsAfterStar(toks []xtok) {
	for i := range toks {
		open := &toks[i]
		if open.kind != tkOpen || open.b != '(' || open.match < 0 || i == 0 || !isOperandEnd(x.src, &toks[i-1]) {
			continue
		}
		x.callArgs(toks, i, int(open.match))
	}
}

// callArgs handles the arguments between toks[open] and toks[close].
func (x *exprLowering) callArgs(toks []xtok, open, close int) {
	depth := toks[open].depth + 1
	type arg struct{ start, end int } // token indices: [start, end)
	var args []arg
	start := open + 1
	for k := open + 1; k <= close; k++ {
		t := &toks[k]
		if k == close || (t.depth == depth && t.kind == tkOp && t.is(x.src, ",")) {
			if k > start {
				args = append(args, arg{start, k})
			}
			start = k + 1
		}
	}
	seenStar := false
	var kws []arg
	for _, a := range args {
		t := &toks[a.start]
		switch {
		case t.kind == tkOp && t.is(x.src, "**"):
			if len(kws) > 0 {
				x.fail(toks[kws[0].start].off, toks[kws[0].start].off,
					"keyword arguments between *args and **kwargs are not supported: put them before *args")
				return
			}
		case t.kind == tkOp && t.is(x.src, "*"):
			seenStar = true
		case seenStar && t.kind == tkName && a.end > a.start+1 && toks[a.start+1].kind == tkOp && toks[a.start+1].is(x.src, "="):
			kws = append(kws, a)
		}
	}
	if len(kws) == 0 {
		return
	}
	first := toks[kws[0].start].off
	for n, a := range kws {
		name := toks[a.start].text(x.src)
		text := fmt.Sprintf("%q: ", name)
		if n == 0 {
			text = "**{" + text
		}
		x.replace(toks[a.start].off, toks[a.start+1].end, text)
	}
	last := kws[len(kws)-1]
	x.close(toks[last.end-1].end, "}", first)
}
