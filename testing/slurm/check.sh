#!/usr/bin/env bash
# Checks that the cluster from up.sh does what the Slurm tests rely on:
# batch jobs, multi-node steps, the queue, cancellation and an MPI program
# across two nodes. Prints OK/FAIL per step; exits non-zero if any failed.
set -uo pipefail

work=$(mktemp -d /tmp/starflow-slurm-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
pass=0
fail=0

step() { # step NAME: runs the function check_NAME, prints OK or FAIL with its output
  local name=$1 t0 out rc
  t0=$(date +%s.%N)
  out=$("check_$name" 2>&1)
  rc=$?
  local took
  took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1))
    printf 'OK   %-10s %6ss  %s\n' "$name" "$took" "$(tail -n 1 <<<"$out")"
  else
    fail=$((fail + 1))
    printf 'FAIL %-10s %6ss\n' "$name" "$took"
    sed 's/^/     | /' <<<"$out"
  fi
}

check_sbatch() {
  timeout 60 sbatch --wait -p debug -N 1 -o "$work/batch.out" --wrap 'echo hello from $SLURMD_NODENAME' || return 1
  grep -q '^hello from n' "$work/batch.out" || { cat "$work/batch.out"; return 1; }
  cat "$work/batch.out"
}

check_srun() {
  local out
  out=$(timeout 60 srun -p debug -N 3 --ntasks-per-node=1 bash -c 'echo $SLURMD_NODENAME $(hostname)') || return 1
  echo "$out"
  [ "$(awk '{print $1}' <<<"$out" | sort -u | paste -sd, -)" = "n1,n2,n3" ] || return 1
  echo "one task on each of n1,n2,n3"
}

check_squeue() {
  local out
  out=$(timeout 20 squeue -h -o '%i %T' 2>&1) || { echo "$out"; return 1; }
  echo "squeue answers (${out:-no jobs})"
}

check_scancel() {
  local id state
  id=$(sbatch --parsable -p debug -N 1 -o /dev/null --wrap 'sleep 300') || return 1
  for _ in $(seq 100); do
    state=$(squeue -h -j "$id" -o '%T' 2>/dev/null)
    [ "$state" = RUNNING ] && break
    sleep 0.2
  done
  [ "$state" = RUNNING ] || { echo "job $id never ran: ${state:-gone}"; scancel "$id"; return 1; }
  scancel "$id" || return 1
  for _ in $(seq 100); do
    state=$(squeue -h -j "$id" -o '%T' 2>/dev/null)
    [ -z "$state" ] && { echo "job $id cancelled and gone from squeue"; return 0; }
    sleep 0.2
  done
  echo "job $id still in squeue: $state"
  return 1
}

check_mpicc() {
  cat >hello.c <<'EOF'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int rank, size;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  /* A real exchange, so the check fails if ranks cannot talk across nodes. */
  int sum = 0;
  MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  const char *node = getenv("SLURMD_NODENAME");
  printf("rank %d of %d on %s sum %d\n", rank, size, node ? node : "?", sum);
  MPI_Finalize();
  return 0;
}
EOF
  mpicc -o hello hello.c || return 1
  echo "hello.c built with $(mpicc --showme:version 2>&1 | head -n 1)"
}

# mpi_ok OUTPUT: 4 ranks, 2 on each of 2 nodes, and the allreduce agreed.
mpi_ok() {
  echo "$1"
  [ "$(grep -c 'of 4 on n[0-9] sum 6$' <<<"$1")" = 4 ] || return 1
  [ "$(grep -o 'on n[0-9]' <<<"$1" | sort | uniq -c | awk '{print $1}' | paste -sd, -)" = "2,2" ] || return 1
  echo "4 ranks on 2 nodes, allreduce ok"
}

check_mpirun() {
  [ -x hello ] || { echo "no hello binary (mpicc step failed)"; return 1; }
  local out
  # Open MPI refuses root without the ALLOW_RUN_AS_ROOT pair. tcp,self:
  # its shared-memory transport (vader) segfaults when ranks of different
  # "nodes" share one host, as they do here.
  out=$(OMPI_MCA_btl=tcp,self OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    timeout 120 salloc -p debug -N 2 --ntasks-per-node=2 mpirun -np 4 "$work/hello" 2>&1) || { echo "$out"; return 1; }
  mpi_ok "$out"
}

# srun as the launcher: needs --mpi=pmix (Debian's Open MPI has no PMI2) and
# up.sh's per-node TmpFS; without it the step fails to launch.
check_srunmpi() {
  [ -x hello ] || { echo "no hello binary (mpicc step failed)"; return 1; }
  local out
  out=$(OMPI_MCA_btl=tcp,self OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
    timeout 120 srun -p debug -N 2 -n 4 --ntasks-per-node=2 --mpi=pmix "$work/hello" 2>&1) || { echo "$out"; return 1; }
  mpi_ok "$out"
}

for s in sbatch srun squeue scancel mpicc mpirun srunmpi; do step "$s"; done
echo "slurm-check: $pass OK, $fail FAIL"
[ $fail -eq 0 ]
