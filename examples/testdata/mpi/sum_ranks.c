/* sum_ranks: the MPI program of examples/mpi_pipeline.star. Every rank
 * reads the same input file of integers (one per line), sums the lines
 * whose index modulo the rank count is its own rank, and the ranks add
 * their partial sums with MPI_Allreduce, so the total is only right when
 * every rank took part and the ranks could talk to each other across
 * nodes. Each rank prints one line:
 *
 *   rank R of N on NODE partial P total T
 *
 * NODE is Slurm's name for the node (SLURMD_NODENAME), else the host
 * name, so the output shows where the ranks ran.
 *
 *   mpicc -O2 -o sum_ranks sum_ranks.c
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int rank, size;
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  if (argc != 2) {
    if (rank == 0)
      fprintf(stderr, "usage: sum_ranks INPUT\n");
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  FILE *in = fopen(argv[1], "r");
  if (in == NULL) {
    perror(argv[1]);
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  long long partial = 0, value;
  for (long i = 0; fscanf(in, "%lld", &value) == 1; i++)
    if (i % size == rank)
      partial += value;
  fclose(in);

  long long total = 0;
  MPI_Allreduce(&partial, &total, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);

  char host[256] = "?";
  const char *node = getenv("SLURMD_NODENAME");
  if (node == NULL) {
    gethostname(host, sizeof host);
    node = host;
  }
  printf("rank %d of %d on %s partial %lld total %lld\n", rank, size, node, partial, total);
  MPI_Finalize();
  return 0;
}
