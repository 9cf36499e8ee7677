package interp

// This file lowers what is found by walking one bracket level at a time:
// comparisons ("is", chains) and comprehensions (generator expressions,
// set displays).

// A cmpOp is a comparison operator: toks[first:last+1] (two tokens for
// "not in" and "is not").
type cmpOp struct {
	first, last int
	name        string
}

// groupInfo is what groups learns about the tokens of one bracket level,
// for comprehension to decide what the brackets hold.
type groupInfo struct {
	firstFor      int  // index of the first "for", -1 if none
	commaBefore   bool // a "," before the first "for"
	colonBefore   bool // a ":" before the first "for" (a dict)
	starStar      int  // offset+1 of a "**" unpacking (in a dict display), 0 if none
	star          int  // offset+1 of a "*" unpacking, 0 if none
	nonEmptyGroup bool
}

// groups walks toks[lo:hi], the contents of the bracket at toks[opener]
// (or a whole token list when opener is -1), recursing into nested
// brackets. It cuts the level into runs at tokens no operand can span
// and lowers the comparisons of each run.
func (x *exprLowering) groups(toks []xtok, lo, hi, opener int) {
	g := groupInfo{firstFor: -1, nonEmptyGroup: lo < hi}
	runStart := lo
	var ops []cmpOp
	forPending := false
	inParams := false // between "lambda" and its ":", where * and ** are parameters
	for k := lo; k < hi; k++ {
		t := &toks[k]
		boundary := false
		switch t.kind {
		case tkOpen:
			if t.match < 0 {
				x.groups(toks, k+1, hi, k)
				k = hi
				continue
			}
			x.groups(toks, k+1, int(t.match), k)
			k = int(t.match)
			continue
		case tkNewline, tkClose:
			boundary = true
		case tkOp:
			switch op := t.text(x.src); op {
			case "<", ">", "==", ">=", "<=", "!=":
				ops = append(ops, cmpOp{k, k, op})
			case ",":
				boundary = true
				if g.firstFor < 0 {
					g.commaBefore = true
				}
			case ":":
				boundary, inParams = true, false
				if g.firstFor < 0 {
					g.colonBefore = true
				}
			case "**", "*":
				if !inParams && (k == lo || toks[k-1].is(x.src, ",")) && g.star == 0 && g.starStar == 0 {
					if op == "*" {
						g.star = t.off + 1
					} else {
						g.starStar = t.off + 1
					}
				}
			case ";", "=", "->", ":=":
				boundary = true
			default:
				// Augmented assignments end an operand too.
				boundary = len(op) >= 2 && op[len(op)-1] == '='
			}
		case tkName:
			switch w := t.text(x.src); w {
			case "in":
				if forPending {
					boundary, forPending = true, false
				} else {
					ops = append(ops, cmpOp{k, k, "in"})
				}
			case "not":
				if k+1 < hi && toks[k+1].is(x.src, "in") {
					ops = append(ops, cmpOp{k, k + 1, "not in"})
					k++
				} else {
					boundary = true
				}
			case "is":
				if k+1 < hi && toks[k+1].is(x.src, "not") {
					ops = append(ops, cmpOp{k, k + 1, "is not"})
					k++
				} else {
					ops = append(ops, cmpOp{k, k, "is"})
				}
			case "for":
				boundary, forPending = true, true
				if g.firstFor < 0 {
					g.firstFor = k
				}
			case "lambda":
				boundary, inParams = true, true
			default:
				boundary = isBoundaryKeyword(w)
			}
		}
		if boundary {
			x.run(toks, runStart, k, ops)
			ops = ops[:0]
			runStart = k + 1
		}
	}
	x.run(toks, runStart, hi, ops)
	if opener >= 0 && toks[opener].match >= 0 {
		x.comprehension(toks, opener, g)
	}
}

// run lowers the comparisons of toks[s:e], a stretch no operand crosses:
// a chain of two or more, or one "is".
func (x *exprLowering) run(toks []xtok, s, e int, ops []cmpOp) {
	if len(ops) == 0 || len(ops) == 1 && ops[0].name != "is" && ops[0].name != "is not" {
		return
	}
	// Operand i spans toks[bounds[i]:bounds[i+1]-ish]: from the end of the
	// operator before it to the start of the one after.
	starts := make([]int, len(ops)+1)
	ends := make([]int, len(ops)+1) // exclusive token indices
	starts[0] = s
	for i, op := range ops {
		ends[i] = op.first
		starts[i+1] = op.last + 1
	}
	ends[len(ops)] = e
	for i := range starts {
		if starts[i] >= ends[i] {
			return // an operand is missing: Starlark's parser reports it
		}
	}
	first, last := toks[s].off, toks[e-1].end
	if len(ops) == 1 {
		x.is(toks, ops[0], starts[1], ends[1], first, last)
		return
	}
	simple := true
	for i, op := range ops {
		if op.name == "is" || op.name == "is not" || i > 0 && !x.simpleOperand(toks, starts[i], ends[i]) {
			simple = false
		}
	}
	if simple {
		// a < b < c  ->  (a < b and b < c): b is a name or a literal, so
		// evaluating it twice is harmless.
		x.open(first, "(", last)
		for i := 1; i < len(ops); i++ {
			mid := string(x.src[toks[starts[i]].off:toks[ends[i]-1].end])
			x.open(toks[ops[i].first].off, " and "+mid+" ", toks[ops[i].first].off)
		}
		x.close(last, ")", first)
		return
	}
	// a < f(b) < c  ->  _sf_chain(a, "<", f(b), "<", lambda: c): each
	// operand evaluated once, the later ones only if needed.
	x.open(first, "_sf_chain(", last)
	for i, op := range ops {
		text := `, "` + op.name + `", `
		if i > 0 {
			text += "lambda: "
		}
		x.replace(toks[op.first].off, toks[op.last].end, text)
	}
	x.close(last, ")", first)
}

// is lowers "a is b" and "a is not b": to == or != when b is None, True
// or False (which are one object each), else to _sf_is(a, b).
func (x *exprLowering) is(toks []xtok, op cmpOp, rs, re int, first, last int) {
	neg := op.name == "is not"
	if re-rs == 1 && toks[rs].kind == tkName {
		switch toks[rs].text(x.src) {
		case "None", "True", "False":
			eq := "=="
			if neg {
				eq = "!="
			}
			x.replace(toks[op.first].off, toks[op.first].end, eq)
			if neg {
				x.replace(toks[op.last].off, toks[op.last].end, "   ")
			}
			return
		}
	}
	if neg {
		x.open(first, "(not _sf_is(", last)
		x.replace(toks[op.first].off, toks[op.last].end, ",")
		x.close(last, "))", first)
		return
	}
	x.open(first, "_sf_is(", last)
	x.replace(toks[op.first].off, toks[op.last].end, ",")
	x.close(last, ")", first)
}

// simpleOperand reports whether toks[s:e] is a name, a literal or a
// dotted name: something that can be evaluated twice.
func (x *exprLowering) simpleOperand(toks []xtok, s, e int) bool {
	if e-s == 1 {
		t := &toks[s]
		switch t.kind {
		case tkNumber:
			return true
		case tkString:
			for k := t.off; !isQuote(x.src[k]); k++ {
				if x.src[k] == 'f' || x.src[k] == 'F' {
					return false // an f-string is a call after lowering
				}
			}
			return true
		case tkName:
			return isOperandEnd(x.src, t)
		}
		return false
	}
	for k := s; k < e; k++ {
		if (k-s)%2 == 0 && (toks[k].kind != tkName || !isOperandEnd(x.src, &toks[k])) ||
			(k-s)%2 == 1 && !toks[k].is(x.src, ".") {
			return false
		}
	}
	return (e-s)%2 == 1
}

// comprehension lowers what Starlark lacks among bracketed forms: a
// generator expression (in a call's parentheses or its own) becomes a
// list comprehension, and a set comprehension or display {a, b} becomes
// set([...]).
func (x *exprLowering) comprehension(toks []xtok, o int, g groupInfo) {
	t, c := &toks[o], &toks[toks[o].match]
	call := t.b == '(' && o > 0 && isOperandEnd(x.src, &toks[o-1])
	switch {
	case g.starStar > 0 && t.b == '{':
		x.fail(g.starStar-1, g.starStar-1, `dict unpacking "**" in a dict display is not supported: `+
			`build the dict with dict(a, **b) or d.update(b)`)
		return
	case g.star > 0 && !call:
		x.fail(g.star-1, g.star-1, `unpacking "*" in a display is not supported: `+
			`concatenate instead (a + b, list(a) + [x])`)
		return
	}
	switch t.b {
	case '(':
		if g.firstFor < 0 || g.commaBefore {
			return
		}
		if call {
			// f(x for x in xs): the generator is the call's only argument.
			x.open(t.end, "[", c.off)
			x.close(c.off, "]", t.end)
			return
		}
		x.replace(t.off, t.end, "[")
		x.replace(c.off, c.end, "]")
	case '{':
		if g.colonBefore || g.firstFor < 0 && !g.nonEmptyGroup {
			return
		}
		x.replace(t.off, t.end, "set([")
		x.replace(c.off, c.end, "])")
	}
}
