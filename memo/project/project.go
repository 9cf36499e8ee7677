// Package project finds a workflow's project: the folder whose
// .starflow/ holds the state that the runs of its scripts share, the memo
// store first. `starflow run` and `starflow memo` both ask it, so that they
// agree on where the store is without being told.
package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Marker is the file that marks a project's root. Its content is read
// elsewhere (if at all); here only its presence counts.
const Marker = "starflow.toml"

// Root returns the project root of the script at scriptPath: the nearest
// folder at or above the script's folder that holds a starflow.toml, else
// the script's folder itself. The result is absolute. The script need not
// exist.
func Root(scriptPath string) (string, error) {
	return RootFrom(filepath.Dir(scriptPath))
}

// RootFrom is Root for work done in dir rather than by a script: the
// nearest folder at or above dir that holds a starflow.toml, else dir.
// `starflow memo` uses RootFrom(".").
func RootFrom(dir string) (string, error) {
	start, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("project root of %s: %w", dir, err)
	}
	for d := start; ; {
		ok, err := hasMarker(d)
		if err != nil {
			return "", fmt.Errorf("project root of %s: %w", dir, err)
		}
		if ok {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return start, nil
		}
		d = parent
	}
}

// hasMarker reports whether d holds a starflow.toml file. A folder that
// cannot be searched (a shared parent on a cluster, say) holds no project
// of ours, so permission errors read as "no".
func hasMarker(d string) (bool, error) {
	fi, err := os.Stat(filepath.Join(d, Marker))
	switch {
	case err == nil:
		return !fi.IsDir(), nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, fs.ErrPermission),
		errors.Is(err, syscall.ENOTDIR): // the "folder" is a file: no project here
		return false, nil
	}
	return false, err
}

// MemoDir is where the memo store of the project rooted at root lives.
func MemoDir(root string) string {
	return filepath.Join(root, ".starflow", "memo")
}
