package builtins

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/dfk"
	"github.com/starflow-hpc/starflow/executors/bash"
)

// autoLogname is parsl.AUTO_LOGNAME: stdout/stderr go to a file named after
// the task under the run's task_logs/.
type autoLogname struct{}

func (autoLogname) String() string        { return "parsl.AUTO_LOGNAME" }
func (autoLogname) Type() string          { return "AUTO_LOGNAME" }
func (autoLogname) Freeze()               {}
func (autoLogname) Truth() starlark.Bool  { return true }
func (autoLogname) Hash() (uint32, error) { return 0x5eed, nil }

// stream is one of a bash app's stdout= / stderr= settings.
type stream struct {
	path   string
	append bool
	auto   bool // AUTO_LOGNAME: path depends on the task id
}

// bashIO is where a bash app's output goes.
type bashIO struct {
	app            string
	runDir         string
	stdout, stderr stream
}

// bashIO validates stdout= and stderr= at the call site (so a wrong value
// is an error at the user's line, not a failed task). The caller sets
// runDir once the kernel is known.
func (a *App) bashIO(c *call) (*bashIO, error) {
	if a.kind != dfk.Bash {
		return nil, nil
	}
	io := &bashIO{app: a.fn.Name()}
	var err error
	if io.stdout, err = parseStream(a.fn.Name(), "stdout", c.special["stdout"]); err != nil {
		return nil, err
	}
	if io.stderr, err = parseStream(a.fn.Name(), "stderr", c.special["stderr"]); err != nil {
		return nil, err
	}
	return io, nil
}

func parseStream(app, param string, v starlark.Value) (stream, error) {
	switch x := v.(type) {
	case nil, starlark.NoneType:
		return stream{}, nil
	case autoLogname:
		return stream{auto: true}, nil
	case starlark.String:
		return stream{path: string(x)}, nil
	case *File:
		return stream{path: x.path}, nil
	case starlark.Tuple:
		if len(x) == 2 {
			p, ok1 := x[0].(starlark.String)
			mode, ok2 := x[1].(starlark.String)
			if ok1 && ok2 && (mode == "w" || mode == "a") {
				return stream{path: string(p), append: mode == "a"}, nil
			}
		}
	}
	return stream{}, fmt.Errorf(`%s: for parameter %s: got %s, want a path, (path, "w"|"a") or parsl.AUTO_LOGNAME`, app, param, v.String())
}

func (io *bashIO) path(st stream, id int, ext string) string {
	if !st.auto {
		return st.path
	}
	return filepath.Join(io.runDir, "task_logs", fmt.Sprintf("%04d", id/10000),
		fmt.Sprintf("task_%04d_%s.%s", id, io.app, ext))
}

// hasFiles says whether the app's output goes to files at all.
func (io *bashIO) hasFiles() bool {
	return io.stdout.path != "" || io.stdout.auto || io.stderr.path != "" || io.stderr.auto
}

// logs names the files task id writes its output to; "" for a stream
// that goes to the run's own output.
func (io *bashIO) logs(id int) (stdout, stderr string) {
	return io.path(io.stdout, id, "stdout"), io.path(io.stderr, id, "stderr")
}

func (io *bashIO) stdoutValue(id int) starlark.Value { return io.value(io.stdout, id, "stdout") }
func (io *bashIO) stderrValue(id int) starlark.Value { return io.value(io.stderr, id, "stderr") }

func (io *bashIO) value(st stream, id int, ext string) starlark.Value {
	if p := io.path(st, id, ext); p != "" {
		return starlark.String(p)
	}
	return starlark.None
}

// runBash runs the command line the bash app's body returned.
func (a *App) runBash(ctx context.Context, s *Session, v starlark.Value, io *bashIO, walltime time.Duration, env dfk.Env) (any, error) {
	cmd, ok := v.(starlark.String)
	if !ok {
		return nil, newAppError("TypeError", "bash_app %s must return the command line as a string, got %s", a.fn.Name(), v.Type())
	}
	spec := bash.Spec{
		Command:       string(cmd),
		Stdout:        bash.Redirect{Path: io.path(io.stdout, env.ID, "stdout"), Append: io.stdout.append},
		Stderr:        bash.Redirect{Path: io.path(io.stderr, env.ID, "stderr"), Append: io.stderr.append},
		DefaultStdout: s.opts.Stdout,
		DefaultStderr: s.opts.Stderr,
		Env:           []string{"PARSL_WORKER_RANK=" + strconv.Itoa(env.Rank)},
		Walltime:      walltime,
		Tracker:       s.opts.Tracker,
		TryID:         &bash.TryID{Task: env.ID, Try: env.Try},
	}
	if err := bash.Run(ctx, a.fn.Name(), spec); err != nil {
		if spec.Stdout.Path != "" || spec.Stderr.Path != "" {
			return nil, &logsError{err: err, stdout: spec.Stdout.Path, stderr: spec.Stderr.Path}
		}
		return nil, err
	}
	return starlark.MakeInt(0), nil
}
