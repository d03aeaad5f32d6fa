#ifndef REPPROBE_CLAPACK_SHIM_H
#define REPPROBE_CLAPACK_SHIM_H
// Debian's liblapacke-dev and libopenblas-dev; pkg-config adds the multiarch include folder.
#include <cblas.h>
#include <lapacke.h>
#endif
