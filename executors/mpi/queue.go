package mpi

// Queue holds a block's tasks until enough of its nodes are free and
// hands each task whole nodes, never shared with another task. It is not
// safe for concurrent use: the worker's dispatcher owns it.
//
// Tasks start in arrival order, except that a task which does not fit yet
// lets later, smaller tasks that fit go first (backfill), so free nodes
// do not sit idle behind a large task. A task overtaken as many times as
// the block has nodes stops the overtaking: from then on the queue
// drains in order until it has started, so small tasks cannot hold a
// large one back for ever.
type Queue[T any] struct {
	nodes   []string
	busy    []bool
	free    int
	waiting []waiting[T]
}

type waiting[T any] struct {
	item      T
	need      int
	overtaken int
}

// NewQueue makes a queue over a block's nodes.
func NewQueue[T any](nodes []string) *Queue[T] {
	return &Queue[T]{nodes: nodes, busy: make([]bool, len(nodes)), free: len(nodes)}
}

// Nodes is the block's node count.
func (q *Queue[T]) Nodes() int { return len(q.nodes) }

// Free is the count of nodes no task holds.
func (q *Queue[T]) Free() int { return q.free }

// Len is the count of tasks waiting.
func (q *Queue[T]) Len() int { return len(q.waiting) }

// Push queues a task needing need nodes; need must be between 1 and
// Nodes (the caller fails larger tasks at once).
func (q *Queue[T]) Push(item T, need int) {
	q.waiting = append(q.waiting, waiting[T]{item: item, need: need})
}

// Pop takes the next task that fits the free nodes and gives it its
// nodes (the lowest-numbered free ones, in block order); ok is false when
// none fits now.
func (q *Queue[T]) Pop() (item T, nodes []string, ok bool) {
	limit := max(len(q.nodes), 1)
	for i, w := range q.waiting {
		if w.need <= q.free {
			for j := range q.waiting[:i] {
				q.waiting[j].overtaken++
			}
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			return w.item, q.take(w.need), true
		}
		if w.overtaken >= limit {
			break // this one has waited long enough: nothing passes it
		}
	}
	return item, nil, false
}

func (q *Queue[T]) take(n int) []string {
	out := make([]string, 0, n)
	for i := range q.nodes {
		if len(out) == n {
			break
		}
		if !q.busy[i] {
			q.busy[i] = true
			out = append(out, q.nodes[i])
		}
	}
	q.free -= n
	return out
}

// Release gives a finished task's nodes back.
func (q *Queue[T]) Release(nodes []string) {
	for _, n := range nodes {
		for i, name := range q.nodes {
			if name == n && q.busy[i] {
				q.busy[i] = false
				q.free++
				break
			}
		}
	}
}

// Drain removes and returns every waiting task, in order.
func (q *Queue[T]) Drain() []T {
	out := make([]T, len(q.waiting))
	for i, w := range q.waiting {
		out[i] = w.item
	}
	q.waiting = nil
	return out
}
