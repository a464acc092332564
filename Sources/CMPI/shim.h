// Open MPI for Swift: MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM and friends are macros (pointers to
// library globals in Open MPI) that Swift cannot import, so these inline functions name them.
#ifndef MEDGLIP_CMPI_SHIM_H
#define MEDGLIP_CMPI_SHIM_H

#include <mpi.h>
#include <stdlib.h>

static inline void medglip_mpi_finalize_at_exit(void) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

/// Initialises MPI once (funnelled threads: only the main thread calls MPI) and finalises it when
/// the process exits, as mpirun expects of every rank. Returns MPI's error code.
static inline int medglip_mpi_init(void) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return MPI_SUCCESS;
    int provided = 0;
    int code = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (code != MPI_SUCCESS) return code;
    // Errors come back as codes (reported with the rank) instead of aborting inside MPI.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    atexit(medglip_mpi_finalize_at_exit);
    return MPI_SUCCESS;
}

static inline int medglip_mpi_rank(void) {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

static inline int medglip_mpi_size(void) {
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

static inline int medglip_mpi_allreduce_sum_float(float *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

static inline int medglip_mpi_allreduce_sum_double(double *buffer, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static inline int medglip_mpi_broadcast_bytes(void *buffer, int count, int root) {
    return MPI_Bcast(buffer, count, MPI_BYTE, root, MPI_COMM_WORLD);
}

static inline int medglip_mpi_allgather_int(int value, int *values) {
    return MPI_Allgather(&value, 1, MPI_INT, values, 1, MPI_INT, MPI_COMM_WORLD);
}

static inline int medglip_mpi_allgatherv_bytes(const void *sent, int count, void *received, const int *counts, const int *offsets) {
    return MPI_Allgatherv(sent, count, MPI_BYTE, received, counts, offsets, MPI_BYTE, MPI_COMM_WORLD);
}

static inline int medglip_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

static inline void medglip_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static inline void medglip_mpi_error_string(int code, char *text, int capacity) {
    int length = 0;
    if (capacity < MPI_MAX_ERROR_STRING) { text[0] = 0; return; }
    MPI_Error_string(code, text, &length);
    text[length] = 0;
}

static inline int medglip_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

#endif
