package mpi

import (
	"strings"
	"testing"
)

// step is one operation on a queue and what it must give.
type step struct {
	op    string // "push", "pop" or "release"
	item  string // push: the task; pop: the task expected ("" for none)
	need  int    // push
	nodes string // pop: the nodes expected; release: the nodes given back
}

func TestQueue(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		nodes []string
		steps []step
	}{
		{"fills in arrival order", []string{"n1", "n2", "n3"}, []step{
			{op: "push", item: "a", need: 2}, {op: "push", item: "b", need: 1}, {op: "push", item: "c", need: 1},
			{op: "pop", item: "a", nodes: "n1,n2"}, {op: "pop", item: "b", nodes: "n3"}, {op: "pop"},
			{op: "release", nodes: "n1,n2"}, {op: "pop", item: "c", nodes: "n1"},
		}},
		{"small tasks backfill behind a large one", []string{"n1", "n2", "n3"}, []step{
			{op: "push", item: "a", need: 2}, {op: "pop", item: "a", nodes: "n1,n2"},
			{op: "push", item: "big", need: 3}, {op: "push", item: "s", need: 1},
			{op: "pop", item: "s", nodes: "n3"}, {op: "pop"},
			{op: "release", nodes: "n1,n2"}, {op: "release", nodes: "n3"},
			{op: "pop", item: "big", nodes: "n1,n2,n3"},
		}},
		{"a task overtaken as often as there are nodes stops the overtaking", []string{"n1", "n2"}, []step{
			{op: "push", item: "a", need: 1}, {op: "pop", item: "a", nodes: "n1"},
			{op: "push", item: "big", need: 2},
			{op: "push", item: "s1", need: 1}, {op: "pop", item: "s1", nodes: "n2"},
			{op: "release", nodes: "n2"},
			{op: "push", item: "s2", need: 1}, {op: "pop", item: "s2", nodes: "n2"},
			{op: "release", nodes: "n2"},
			{op: "push", item: "s3", need: 1}, {op: "pop"}, // big was overtaken twice: s3 waits
			{op: "release", nodes: "n1"}, {op: "pop", item: "big", nodes: "n1,n2"},
			{op: "release", nodes: "n1,n2"}, {op: "pop", item: "s3", nodes: "n1"},
		}},
		{"freed nodes are reused lowest first", []string{"a", "b", "c", "d"}, []step{
			{op: "push", item: "1", need: 1}, {op: "push", item: "2", need: 1}, {op: "push", item: "3", need: 2},
			{op: "pop", item: "1", nodes: "a"}, {op: "pop", item: "2", nodes: "b"}, {op: "pop", item: "3", nodes: "c,d"},
			{op: "release", nodes: "b"}, {op: "release", nodes: "d"},
			{op: "push", item: "4", need: 2}, {op: "pop", item: "4", nodes: "b,d"},
		}},
	} {
		q := NewQueue[string](tc.nodes)
		for i, s := range tc.steps {
			switch s.op {
			case "push":
				q.Push(s.item, s.need)
			case "release":
				q.Release(strings.Split(s.nodes, ","))
			case "pop":
				item, nodes, ok := q.Pop()
				if ok != (s.item != "") || item != s.item || strings.Join(nodes, ",") != s.nodes {
					t.Fatalf("%s: step %d: Pop() = %q on %v (ok %v), want %q on %q", tc.name, i, item, nodes, ok, s.item, s.nodes)
				}
			}
		}
	}
}

func TestQueueCounts(t *testing.T) {
	t.Parallel()
	q := NewQueue[int]([]string{"x", "y"})
	q.Push(1, 2)
	q.Push(2, 1)
	if q.Nodes() != 2 || q.Free() != 2 || q.Len() != 2 {
		t.Fatalf("Nodes %d Free %d Len %d", q.Nodes(), q.Free(), q.Len())
	}
	if _, nodes, _ := q.Pop(); len(nodes) != 2 || q.Free() != 0 {
		t.Fatalf("after Pop: nodes %v, Free %d", nodes, q.Free())
	}
	if left := q.Drain(); len(left) != 1 || left[0] != 2 || q.Len() != 0 {
		t.Fatalf("Drain = %v, Len %d", left, q.Len())
	}
	q.Release([]string{"x", "x", "nope"}) // a node given back twice counts once
	if q.Free() != 1 {
		t.Fatalf("Free after releasing x twice = %d, want 1", q.Free())
	}
}
