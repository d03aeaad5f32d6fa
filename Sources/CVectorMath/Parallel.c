#define _GNU_SOURCE
#include "CVectorMath.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// The network runtime's threads: one helper per core beyond the caller's, started on first
// use and kept for the life of the process.
//
// A parallel region of the runtime is short (a tenth of a millisecond for a linear layer
// of a small transformer) and there are dozens of them per forward pass, separated by
// serial work of similar length. Waking a sleeping thread costs tens of microseconds, as
// does handing work to Dispatch's workers (measured: two 20 µs halves took 59 µs through
// `dispatch_apply`). So a helper that has finished a region spins for a while (`SPIN_NS`)
// waiting for the next one before it sleeps on a futex.
//
// One region runs at a time. A caller that finds the helpers taken (another thread's
// region, or a region started from inside a part) runs its parts itself, one after
// another: every part computes the same values whichever thread runs it.
//
// The protocol. `epoch` is even while a region's description (`job`) is published and odd
// while a caller rewrites it. A helper that sees a new even epoch announces itself in
// `active`, then reads the epoch again: if it is still that even value the description
// stays put until the helper leaves, since a caller makes the epoch odd and then waits for
// `active` to reach zero before it writes (both sides sequentially consistent, so one of
// them sees the other). Parts are claimed from `next`; the caller returns once `finished`
// counts them all.

enum { SPIN_NS = 200000 };

static struct {
    void (*body)(void *, long);
    void *context;
    long parts;
} job;

static atomic_uint epoch;
static atomic_long next, finished;
static atomic_int active, sleepers;
static atomic_flag taken = ATOMIC_FLAG_INIT;
static long helper_count;
static pthread_once_t started = PTHREAD_ONCE_INIT;

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/// One step of a spin-wait: a pause at first, then a yield, so that a thread waiting on
/// another that shares its core (the scheduler may put both there) lets it run.
static inline void relax(int *spins) {
    if (*spins < 64) {
        ++*spins;
        __builtin_ia32_pause();
    } else {
        sched_yield();
    }
}

/// Claims and runs parts of the published region until none is left.
static void run_parts(void) {
    long parts = job.parts;
    for (;;) {
        long part = atomic_fetch_add(&next, 1);
        if (part >= parts) return;
        job.body(job.context, part);
        atomic_fetch_add(&finished, 1);
    }
}

/// Waits until the epoch differs from `seen`: spinning, then asleep on the futex.
static unsigned wait_for_change(unsigned seen) {
    long start = now_ns();
    for (int spins = 0;;) {
        unsigned current = atomic_load(&epoch);
        if (current != seen) return current;
        relax(&spins);
        if (now_ns() - start > SPIN_NS) break;
    }
    for (;;) {
        atomic_fetch_add(&sleepers, 1);
        unsigned current = atomic_load(&epoch);
        if (current == seen) syscall(SYS_futex, &epoch, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
        atomic_fetch_sub(&sleepers, 1);
        current = atomic_load(&epoch);
        if (current != seen) return current;
    }
}

static void *helper(void *unused) {
    (void)unused;
    unsigned seen = atomic_load(&epoch) & ~1u;
    for (;;) {
        unsigned current = wait_for_change(seen);
        if (current & 1) {
            // A caller is writing the next region: wait for it without announcing ourselves.
            for (int spins = 0; (current = atomic_load(&epoch)) & 1;) relax(&spins);
        }
        if (current == seen) continue;
        atomic_fetch_add(&active, 1);
        if (atomic_load(&epoch) == current) run_parts();
        atomic_fetch_sub(&active, 1);
        seen = current;
    }
    return NULL;
}

static void start_helpers(void) {
    cpu_set_t cpus;
    long cores = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : sysconf(_SC_NPROCESSORS_ONLN);
    long wanted = cores > 64 ? 63 : cores - 1;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    for (long i = 0; i < wanted; i++) {
        pthread_t thread;
        if (pthread_create(&thread, &attributes, helper, NULL) != 0) break;
        helper_count++;
    }
    pthread_attr_destroy(&attributes);
}

long repprobe_parallel_threads(void) {
    pthread_once(&started, start_helpers);
    return helper_count + 1;
}

void repprobe_parallel(long parts, void *context, void (*body)(void *context, long part)) {
    if (parts <= 0) return;
    if (parts == 1 || repprobe_parallel_threads() == 1 || atomic_flag_test_and_set(&taken)) {
        for (long part = 0; part < parts; part++) body(context, part);
        return;
    }
    unsigned base = atomic_load(&epoch);
    atomic_store(&epoch, base + 1);
    for (int spins = 0; atomic_load(&active) != 0;) relax(&spins);
    job.body = body;
    job.context = context;
    job.parts = parts;
    atomic_store(&next, 0);
    atomic_store(&finished, 0);
    atomic_store(&epoch, base + 2);
    if (atomic_load(&sleepers) > 0) syscall(SYS_futex, &epoch, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    run_parts();
    for (int spins = 0; atomic_load(&finished) < parts;) relax(&spins);
    atomic_flag_clear(&taken);
}
