package mpi

import (
	"slices"
	"strings"
	"testing"
)

func TestPrefix(t *testing.T) {
	t.Parallel()
	two := Spec{Nodes: 2, RanksPerNode: 2, Ranks: 4}
	nodes := []string{"n1", "n2"}
	for _, tc := range []struct {
		l    Launcher
		f    Flavor
		s    Spec
		want string
	}{
		{Srun, Hydra, two, "srun --ntasks 4 --ntasks-per-node 2 --nodelist n1,n2 --nodes 2"},
		{Mpiexec, Hydra, two, "mpiexec -n 4 -ppn 2 -hosts n1,n2"},
		{Mpiexec, OpenMPI, two, "mpiexec -n 4 --map-by ppr:2:node --oversubscribe --host n1:2,n2:2"},
		{Aprun, Hydra, two, "aprun -n 4 -N 2 -node-list n1,n2"},
		{Srun, OpenMPI, Spec{2, 2, 4, "--mpi=pmix"}, "srun --ntasks 4 --ntasks-per-node 2 --nodelist n1,n2 --nodes 2 --mpi=pmix"},
	} {
		if got := Prefix(tc.l, tc.f, tc.s, nodes); got != tc.want {
			t.Errorf("Prefix(%s, %v, %+v) = %q, want %q", tc.l, tc.f, tc.s, got, tc.want)
		}
	}
}

func TestEnviron(t *testing.T) {
	t.Parallel()
	env := Environ(Srun, OpenMPI, Spec{Nodes: 2, RanksPerNode: 1, Ranks: 2}, []string{"n2", "n3"})
	for _, want := range []string{
		"PARSL_NUM_NODES=2", "PARSL_RANKS_PER_NODE=1", "PARSL_NUM_RANKS=2", "PARSL_MPI_NODELIST=n2,n3",
		"PARSL_MPI_PREFIX=srun --ntasks 2 --ntasks-per-node 1 --nodelist n2,n3 --nodes 2",
		"PARSL_SRUN_PREFIX=srun --ntasks 2 --ntasks-per-node 1 --nodelist n2,n3 --nodes 2",
		"PARSL_MPIEXEC_PREFIX=mpiexec -n 2 --map-by ppr:1:node --oversubscribe --host n2:1,n3:1",
		"PARSL_APRUN_PREFIX=aprun -n 2 -N 1 -node-list n2,n3",
	} {
		if !slices.Contains(env, want) {
			t.Errorf("Environ lacks %q:\n%s", want, strings.Join(env, "\n"))
		}
	}
}

func TestParseLauncherAndFlavor(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"srun", "mpiexec", "aprun"} {
		if l, err := ParseLauncher(s); err != nil || string(l) != s {
			t.Errorf("ParseLauncher(%q) = %q, %v", s, l, err)
		}
	}
	_, err := ParseLauncher("mpirun")
	if err == nil || err.Error() != `mpi_launcher: got "mpirun", want "srun", "mpiexec" or "aprun"` {
		t.Errorf("ParseLauncher(mpirun) error = %v", err)
	}
	for _, tc := range []struct {
		out  string
		want Flavor
	}{
		{"mpiexec (OpenRTE) 4.1.4\n\nReport bugs to http://www.open-mpi.org/community/help/\n", OpenMPI},
		{"mpiexec (Open MPI) 5.0.3\n", OpenMPI},
		{"HYDRA build details:\n    Version:                                 4.1.2\n", Hydra},
		{"Intel(R) MPI Library for Linux* OS, Version 2021.10\n", Hydra},
		{"", Hydra},
	} {
		if got := FlavorOf(tc.out); got != tc.want {
			t.Errorf("FlavorOf(%q) = %v, want %v", tc.out, got, tc.want)
		}
	}
}
