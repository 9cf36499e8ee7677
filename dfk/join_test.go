package dfk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/starflow-hpc/starflow/dfk"
)

func TestJoin(t *testing.T) {
	t.Parallel()
	sum := func(vs []any) any {
		n := 0
		for _, v := range vs {
			n += v.(int)
		}
		return n
	}
	// body is the join app's Run; it submits the tasks it joins through
	// sub, which remembers them for check.
	tests := []struct {
		name  string
		kind  dfk.Kind
		body  func(sub func(runFunc) *dfk.Future) (any, error)
		check func(t *testing.T, join *dfk.Future, inner []*dfk.Future, v any, err error)
	}{
		{"single", dfk.JoinApp, func(sub func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{Futures: []*dfk.Future{sub(returns(7))}}, nil
		}, wantValue(7)},
		{"single combined", dfk.JoinApp, func(sub func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{Futures: []*dfk.Future{sub(returns(7))}, Combine: func(vs []any) any { return vs[0].(int) * 2 }}, nil
		}, wantValue(14)},
		{"list", dfk.JoinApp, func(sub func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{Futures: []*dfk.Future{sub(returns(1)), sub(returns(2)), sub(returns(3))}, List: true, Combine: sum}, nil
		}, wantValue(6)},
		{"empty list", dfk.JoinApp, func(func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{List: true}, nil
		}, wantValue(nil)},
		{"empty list combined", dfk.JoinApp, func(func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{List: true, Combine: sum}, nil
		}, wantValue(0)},
		{"plain value", dfk.JoinApp, func(func(runFunc) *dfk.Future) (any, error) {
			return 5, nil
		}, wantValue(5)},
		{"body error", dfk.JoinApp, func(func(runFunc) *dfk.Future) (any, error) {
			return nil, errBoom
		}, func(t *testing.T, join *dfk.Future, _ []*dfk.Future, _ any, err error) {
			var te *dfk.TaskError
			if !errors.As(err, &te) || te.ID != join.ID() || !errors.Is(err, errBoom) {
				t.Errorf("error = %v, want the body's error labelled with task %d", err, join.ID())
			}
		}},
		{"single failure is the inner error", dfk.JoinApp, func(sub func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{Futures: []*dfk.Future{sub(raises(errBoom))}}, nil
		}, func(t *testing.T, join *dfk.Future, inner []*dfk.Future, _ any, err error) {
			_, innerErr := inner[0].Outcome()
			if err != innerErr {
				t.Errorf("error = %v, want the inner task's error %v", err, innerErr)
			}
			if join.State() != dfk.Failed {
				t.Errorf("state = %v, want failed", join.State())
			}
			if !inner[0].Observed() {
				t.Error("the inner failure is reported through the join; it should count as seen")
			}
		}},
		{"list failure is a JoinError", dfk.JoinApp, func(sub func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{List: true, Combine: sum, Futures: []*dfk.Future{
				sub(returns(1)), sub(raises(errBoom)), sub(returns(2)), sub(raises(errBoom)),
			}}, nil
		}, func(t *testing.T, join *dfk.Future, inner []*dfk.Future, _ any, err error) {
			var je *dfk.JoinError
			if !errors.As(err, &je) {
				t.Fatalf("error = %v, want a *JoinError", err)
			}
			if je.ID != join.ID() || !slices.Equal(je.Failed, []*dfk.Future{inner[1], inner[3]}) {
				t.Errorf("JoinError for task %d naming %v, want task %d naming %v",
					je.ID, ids(je.Failed), join.ID(), ids([]*dfk.Future{inner[1], inner[3]}))
			}
		}},
		{"list of one failure is a JoinError", dfk.JoinApp, func(sub func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{List: true, Futures: []*dfk.Future{sub(raises(errBoom))}}, nil
		}, func(t *testing.T, _ *dfk.Future, _ []*dfk.Future, _ any, err error) {
			if je := (*dfk.JoinError)(nil); !errors.As(err, &je) {
				t.Errorf("error = %v, want a *JoinError", err)
			}
		}},
		{"python app returning a Join is a value", dfk.Python, func(func(runFunc) *dfk.Future) (any, error) {
			return &dfk.Join{}, nil
		}, func(t *testing.T, _ *dfk.Future, _ []*dfk.Future, v any, err error) {
			if _, ok := v.(*dfk.Join); !ok || err != nil {
				t.Errorf("got (%v, %v), want the *Join as the value", v, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, 2, dfk.Config{})
			var inner []*dfk.Future // written by the body, read after the join is done
			sub := func(run runFunc) *dfk.Future {
				f := k.Submit(dfk.Spec{App: "inner", Run: run})
				inner = append(inner, f)
				return f
			}
			join := k.Submit(dfk.Spec{App: "join", Kind: tt.kind, Run: func(context.Context, dfk.Env) (any, error) {
				return tt.body(sub)
			}})
			v, err := outcome(t, join)
			tt.check(t, join, inner, v, err)
			waitAll(t, k)
		})
	}
}

func wantValue(want any) func(*testing.T, *dfk.Future, []*dfk.Future, any, error) {
	return func(t *testing.T, join *dfk.Future, _ []*dfk.Future, v any, err error) {
		if err != nil || v != want || join.State() != dfk.ExecDone {
			t.Errorf("got (%v, %v) in state %v, want (%v, nil) in exec_done", v, err, join.State(), want)
		}
	}
}

func TestJoinRetries(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 2, dfk.Config{Retries: 2})
	var tries []int // only one body runs at a time: each try follows the last
	join := k.Submit(dfk.Spec{App: "join", Kind: dfk.JoinApp, Run: func(_ context.Context, env dfk.Env) (any, error) {
		tries = append(tries, env.Try)
		if env.Try < 2 {
			return nil, errBoom
		}
		return &dfk.Join{Futures: []*dfk.Future{k.Submit(dfk.Spec{App: "inner", Run: returns(3)})}}, nil
	}})
	if v, err := outcome(t, join); err != nil || v != 3 {
		t.Errorf("got (%v, %v), want (3, nil)", v, err)
	}
	if !slices.Equal(tries, []int{0, 1, 2}) {
		t.Errorf("tries = %v, want [0 1 2]", tries)
	}
}

// TestJoinRecursion is Parsl's recursive join app 10,000 deep: each body
// submits the next; some hand back the child's future, others block on it.
// Blocking bodies hold a goroutine each, handed-back ones a callback.
func TestJoinRecursion(t *testing.T) {
	t.Parallel()
	const depth = 10_000
	for _, blockEvery := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("block every %d", blockEvery), func(t *testing.T) {
			t.Parallel()
			k := newKernel(t, 2, dfk.Config{})
			var body func(i int) runFunc
			body = func(i int) runFunc {
				return func(ctx context.Context, _ dfk.Env) (any, error) {
					if i == depth {
						return 0, nil
					}
					child := k.Submit(dfk.Spec{App: "rec", Kind: dfk.JoinApp, Run: body(i + 1)})
					if blockEvery > 0 && i%blockEvery == 0 {
						v, err := child.Wait(ctx)
						if err != nil {
							return nil, err
						}
						return v.(int) + 1, nil
					}
					return &dfk.Join{Futures: []*dfk.Future{child}, Combine: func(vs []any) any { return vs[0].(int) + 1 }}, nil
				}
			}
			root := k.Submit(dfk.Spec{App: "rec", Kind: dfk.JoinApp, Run: body(0)})
			if v, err := outcome(t, root); err != nil || v != depth {
				t.Errorf("got (%v, %v), want (%d, nil)", v, err, depth)
			}
			waitAll(t, k)
			if c := k.Counts(); c.Submitted != depth+1 || c.Done != depth+1 {
				t.Errorf("Counts = %+v, want %d tasks done", c, depth+1)
			}
		})
	}
}

// TestJoinFibonacci mixes join and python tasks: each join returns a list
// of two recursive joins, or a python task at the leaves, and every other
// level blocks on its children instead.
func TestJoinFibonacci(t *testing.T) {
	t.Parallel()
	k := newKernel(t, 4, dfk.Config{})
	sum := func(vs []any) any { return vs[0].(int) + vs[1].(int) }
	var fib func(n int) *dfk.Future
	fib = func(n int) *dfk.Future {
		return k.Submit(dfk.Spec{App: "fib", Kind: dfk.JoinApp, Run: func(ctx context.Context, _ dfk.Env) (any, error) {
			if n < 2 {
				return &dfk.Join{Futures: []*dfk.Future{k.Submit(dfk.Spec{App: "leaf", Run: returns(n)})}}, nil
			}
			a, b := fib(n-1), fib(n-2)
			if n%2 == 0 {
				return &dfk.Join{Futures: []*dfk.Future{a, b}, List: true, Combine: sum}, nil
			}
			va, err := a.Wait(ctx)
			if err != nil {
				return nil, err
			}
			vb, err := b.Wait(ctx)
			if err != nil {
				return nil, err
			}
			return va.(int) + vb.(int), nil
		}})
	}
	if v, err := outcome(t, fib(18)); err != nil || v != 2584 {
		t.Errorf("fib(18) = (%v, %v), want 2584", v, err)
	}
	waitAll(t, k)
}
