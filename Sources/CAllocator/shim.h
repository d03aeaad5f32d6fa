#ifndef REPPROBE_CALLOCATOR_SHIM_H
#define REPPROBE_CALLOCATOR_SHIM_H
// glibc's allocator settings (mallopt), which the network runtime tunes once.
#include <malloc.h>
#endif
