package mpi

import (
	"fmt"
	"strconv"
	"strings"
)

// Launcher is mpi_launcher: the command that starts a task's ranks.
type Launcher string

const (
	Srun    Launcher = "srun"
	Mpiexec Launcher = "mpiexec"
	Aprun   Launcher = "aprun"
)

// ParseLauncher reads mpi_launcher.
func ParseLauncher(s string) (Launcher, error) {
	switch l := Launcher(s); l {
	case Srun, Mpiexec, Aprun:
		return l, nil
	}
	return "", fmt.Errorf(`mpi_launcher: got %q, want "srun", "mpiexec" or "aprun"`, s)
}

// Flavor is the MPI library behind mpiexec: their options differ.
type Flavor int

const (
	// Hydra is MPICH's launcher and its kin (Intel MPI, Cray's PALS
	// mpiexec): -ppn and -hosts, the prefix Parsl composes.
	Hydra Flavor = iota
	// OpenMPI's mpiexec refuses -ppn and -hosts; it takes hosts with
	// their slot counts.
	OpenMPI
)

func (f Flavor) String() string {
	if f == OpenMPI {
		return "Open MPI"
	}
	return "Hydra (MPICH)"
}

// FlavorOf tells the flavor from `mpiexec --version`: Open MPI 4 says
// "mpiexec (OpenRTE) 4.1.4", Open MPI 5 "mpiexec (Open MPI) 5.0.3";
// everything else is taken for Hydra, Parsl's assumption.
func FlavorOf(version string) Flavor {
	if strings.Contains(version, "OpenRTE") || strings.Contains(version, "Open MPI") {
		return OpenMPI
	}
	return Hydra
}

// Env names of the placement, as Parsl's MPI mode sets them.
const (
	EnvMPIPrefix     = "PARSL_MPI_PREFIX"
	EnvMPINodelist   = "PARSL_MPI_NODELIST"
	EnvSrunPrefix    = "PARSL_SRUN_PREFIX"
	EnvMpiexecPrefix = "PARSL_MPIEXEC_PREFIX"
	EnvAprunPrefix   = "PARSL_APRUN_PREFIX"
)

// Prefix is the command line, before the program, that starts s's ranks
// on nodes (len(nodes) == s.Nodes) with launcher l.
func Prefix(l Launcher, f Flavor, s Spec, nodes []string) string {
	per, total := strconv.Itoa(s.RanksPerNode), strconv.Itoa(s.Ranks)
	list := strings.Join(nodes, ",")
	var args []string
	switch l {
	case Srun:
		// A worker's batch job holds more nodes than one task, so the
		// step names its nodes and its task count; without --ntasks it
		// would inherit the job's SLURM_NTASKS and be refused.
		args = []string{"srun", "--ntasks", total, "--ntasks-per-node", per, "--nodelist", list, "--nodes", strconv.Itoa(len(nodes))}
	case Aprun:
		args = []string{"aprun", "-n", total, "-N", per, "-node-list", list}
	default:
		if f == OpenMPI {
			// Open MPI counts the slots Slurm gave the job, one per node
			// for a block of tasks_per_node=1, and refuses more ranks
			// than slots. The task has these nodes to itself (the queue
			// hands out whole nodes), so the ranks are placed
			// explicitly and the count check is turned off.
			hosts := make([]string, len(nodes))
			for i, n := range nodes {
				hosts[i] = n + ":" + per
			}
			args = []string{"mpiexec", "-n", total, "--map-by", "ppr:" + per + ":node", "--oversubscribe", "--host", strings.Join(hosts, ",")}
		} else {
			args = []string{"mpiexec", "-n", total, "-ppn", per, "-hosts", list}
		}
	}
	if s.LauncherOptions != "" {
		args = append(args, s.LauncherOptions)
	}
	return strings.Join(args, " ")
}

// Environ is what a task placed on nodes sees: its counts, its node list,
// the prefix of every launcher and PARSL_MPI_PREFIX, the one of l.
func Environ(l Launcher, f Flavor, s Spec, nodes []string) []string {
	env := append(s.Env(),
		EnvMPINodelist+"="+strings.Join(nodes, ","),
		EnvSrunPrefix+"="+Prefix(Srun, f, s, nodes),
		EnvMpiexecPrefix+"="+Prefix(Mpiexec, f, s, nodes),
		EnvAprunPrefix+"="+Prefix(Aprun, f, s, nodes),
		EnvMPIPrefix+"="+Prefix(l, f, s, nodes),
	)
	return env
}
