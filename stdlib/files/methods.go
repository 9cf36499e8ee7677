package files

import (
	"errors"
	"io"
	"strings"

	"go.starlark.net/starlark"

	"github.com/starflow-hpc/starflow/stdlib/internal/pyiter"
	"github.com/starflow-hpc/starflow/stdlib/pyerr"
)

type method = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

func fileMethod(name string) method {
	switch name {
	case "read":
		return fileRead
	case "readline":
		return fileReadline
	case "readlines":
		return fileReadlines
	case "write":
		return fileWrite
	case "writelines":
		return fileWritelines
	case "close":
		return fileClose
	case "flush":
		return fileFlush
	case "seek":
		return fileSeek
	case "tell":
		return fileTell
	case "readable":
		return fileReadable
	case "writable":
		return fileWritable
	}
	return nil
}

func fileRead(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := b.Receiver().(*File)
	size := -1
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "size?", &size); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable("read", true, false); err != nil {
		return nil, err
	}
	r := f.reader()
	if size < 0 {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, pyerr.OS("read", err)
		}
		return f.value(f.translate(string(data))), nil
	}
	var sb strings.Builder
	for n := 0; n < size; n++ {
		c, err := f.readUnit(r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, pyerr.OS("read", err)
		}
		sb.WriteString(c)
	}
	return f.value(f.translate(sb.String())), nil
}

func fileReadline(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := b.Receiver().(*File)
	size := -1
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "size?", &size); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable("readline", true, false); err != nil {
		return nil, err
	}
	line, err := f.readLine(size)
	if err != nil {
		return nil, err
	}
	return f.value(line), nil
}

func fileReadlines(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := b.Receiver().(*File)
	hint := -1
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "hint?", &hint); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable("readlines", true, false); err != nil {
		return nil, err
	}
	var lines []starlark.Value
	total := 0
	for {
		line, err := f.readLine(-1)
		if err != nil {
			return nil, err
		}
		if line == "" {
			break
		}
		lines = append(lines, f.value(line))
		// Python stops once the lines read so far reach hint.
		if total += len(line); hint > 0 && total >= hint {
			break
		}
	}
	return starlark.NewList(lines), nil
}

func fileWrite(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := b.Receiver().(*File)
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	s, err := f.textArg("write", v)
	if err != nil {
		return nil, err
	}
	if err := f.WriteText(s); err != nil {
		return nil, err
	}
	return starlark.MakeInt(f.count(s)), nil
}

func fileWritelines(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := b.Receiver().(*File)
	var lines starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &lines); err != nil {
		return nil, err
	}
	var sb strings.Builder
	it := pyiter.Iterate(lines)
	if it == nil {
		return nil, pyerr.New("TypeError", b.Name(), "%s object is not iterable", pyerr.TypeRepr(lines))
	}
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		s, err := f.textArg("write", x)
		if err != nil {
			return nil, err
		}
		sb.WriteString(s)
	}
	return starlark.None, f.WriteText(sb.String())
}

func fileClose(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.None, b.Receiver().(*File).Close()
}

func fileFlush(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	f := b.Receiver().(*File)
	f.mu.Lock()
	defer f.mu.Unlock()
	// Writes are unbuffered: there is nothing to flush, but flushing a
	// closed file is an error in Python too.
	return starlark.None, f.usable("flush", false, false)
}

func fileSeek(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f := b.Receiver().(*File)
	var offset int64
	whence := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "offset", &offset, "whence?", &whence); err != nil {
		return nil, err
	}
	if whence < 0 || whence > 2 {
		return nil, pyerr.New("ValueError", "seek", "invalid whence (%d, should be 0, 1 or 2)", whence)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable("seek", false, false); err != nil {
		return nil, err
	}
	if err := f.dropReadAhead(); err != nil {
		return nil, pyerr.OS("seek", err)
	}
	pos, err := f.f.Seek(offset, whence)
	if err != nil {
		return nil, pyerr.OS("seek", err)
	}
	return starlark.MakeInt64(pos), nil
}

func fileTell(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	f := b.Receiver().(*File)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.usable("tell", false, false); err != nil {
		return nil, err
	}
	pos, err := f.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, pyerr.OS("tell", err)
	}
	if f.r != nil {
		pos -= int64(f.r.Buffered())
	}
	return starlark.MakeInt64(pos), nil
}

func fileReadable(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.Bool(b.Receiver().(*File).readable), nil
}

func fileWritable(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.Bool(b.Receiver().(*File).writable), nil
}
