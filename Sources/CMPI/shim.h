#ifndef REPPROBE_CMPI_SHIM_H
#define REPPROBE_CMPI_SHIM_H
// Open MPI from Debian's libopenmpi-dev; pkg-config (ompi-c) adds its include folder.
#include <mpi.h>

// MPI_COMM_WORLD and the datatypes are macros that take the address of library globals,
// which Swift does not import: these functions hand them over.
static inline MPI_Comm repprobe_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype repprobe_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype repprobe_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Status *repprobe_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
#endif
