import Foundation

extension BLASThreads {
    /// How OpenBLAS's worker threads should wait between calls, which OpenBLAS reads from
    /// the environment once, as the library loads.
    ///
    /// By default each worker spins (`sched_yield`) for about 2²⁸ cycles after every call
    /// before it sleeps. repprobe alternates BLAS calls with its own multi-threaded kernels
    /// (im2col, pooling, reductions), so the spinning workers compete with those threads for
    /// the cores: on two ResNet-18s over 10 000 inputs, a third of the samples of a profile
    /// were in `sched_yield`, and the whole command took 47–48 s of wall time and 30–31 s of
    /// system time; with a wait of 2⁴ cycles it took 36–41 s and 2–3 s (two alternating
    /// rounds). A wait that short wakes the workers for every call, though, and LAPACK's
    /// reductions make thousands of small calls in a row: `dsytrd` on a 1024 × 1024 matrix
    /// took 49–80 ms with it against 30 ms with the default. 2¹⁶ cycles (about 20 µs) keeps
    /// the workers awake through such a chain (30 ms) and takes nothing measurable from the
    /// runtime's threads: that ResNet-18 command took 17.4–22.8 s against 17.6–23.3 s in
    /// five alternating rounds. A process that wants this sets the variables before OpenBLAS
    /// loads: the command line starts itself again with them.
    ///
    /// The variables and values, unless the environment already sets them.
    public static var environment: [String: String] {
        let given = ProcessInfo.processInfo.environment
        return ["OPENBLAS_THREAD_TIMEOUT": "16"].filter { given[$0.key] == nil }
    }

    /// Starts this process again, with the same arguments, once ``environment`` is set;
    /// returns when the environment already has it (or the executable cannot be started
    /// again, when the process runs as it is). Every executable calls this first, so that
    /// a benchmark times what the command line does.
    public static func restartWithEnvironment() {
        let missing = environment
        guard !missing.isEmpty else { return }
        for (name, value) in missing { setenv(name, value, 1) }
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
