package mpi

import (
	"fmt"
	"strings"
)

// Source says where a block's node list came from.
type Source string

const (
	FromSlurm Source = "slurm"      // SLURM_JOB_NODELIST / SLURM_NODELIST
	FromPBS   Source = "pbs"        // PBS_NODEFILE
	FromLocal Source = "local host" // no batch system: this host alone
)

// Host is what DiscoverNodes reads: the environment, files and this
// host's name. The worker passes the real ones; tests pass tables.
type Host struct {
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
	Hostname string
}

// DiscoverNodes lists the nodes of the batch job this process runs in,
// as Parsl's MPI mode does: Slurm's node list, else PBS's node file
// (one line per slot, so names repeat and are deduplicated in order),
// else this host alone, as under a LocalProvider.
func DiscoverNodes(h Host) ([]string, Source, error) {
	// SLURM_JOB_NODELIST is the job's; SLURM_NODELIST may be narrowed
	// to a step's nodes, so the job's list wins when both are set.
	for _, name := range []string{"SLURM_JOB_NODELIST", "SLURM_NODELIST"} {
		if v := strings.TrimSpace(h.Getenv(name)); v != "" {
			nodes, err := ExpandHostlist(v)
			if err != nil {
				return nil, FromSlurm, fmt.Errorf("%s: %w", name, err)
			}
			return nodes, FromSlurm, nil
		}
	}
	if path := h.Getenv("PBS_NODEFILE"); path != "" {
		b, err := h.ReadFile(path)
		if err != nil {
			return nil, FromPBS, fmt.Errorf("PBS_NODEFILE: %w", err)
		}
		nodes := uniqueLines(string(b))
		if len(nodes) == 0 {
			return nil, FromPBS, fmt.Errorf("PBS_NODEFILE %s names no node", path)
		}
		return nodes, FromPBS, nil
	}
	if h.Hostname == "" {
		return nil, FromLocal, fmt.Errorf("no batch job node list (SLURM_JOB_NODELIST, PBS_NODEFILE) and no host name")
	}
	return []string{h.Hostname}, FromLocal, nil
}

func uniqueLines(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || seen[line] {
			continue
		}
		seen[line] = true
		out = append(out, line)
	}
	return out
}
