import CAllocator

/// glibc's allocator, told once per process to keep the memory that a forward pass frees.
///
/// By default glibc serves every block above 128 KB (a threshold that rises to at most
/// 32 MB as it sees such blocks freed) with its own `mmap`, and returns it to the kernel on
/// `free`. A forward pass allocates and frees tensors of megabytes node after node, so the
/// next tensor lands on fresh pages and pays a page fault for every 4 KB of them: about
/// 14 000 faults per ResNet-18 batch of 8, and half of a `Relu` node's time. With blocks up
/// to 32 MB kept on the heap and up to 256 MB of free memory at its top kept mapped, later
/// tensors reuse pages already faulted in, as the arena of other runtimes does. The peak
/// memory of a run does not change; the process keeps its pages until it exits.
///
/// 32 MB is the most that glibc accepts as the threshold, and larger tensors are common: a
/// BERT-base feed-forward activation at 32 × 128 tokens is 50 MB, and a run of it took
/// 476 000 page faults. So glibc is also told never to serve a block with `mmap` of its
/// own (`M_MMAP_MAX` 0): large blocks come from the heap like the others and are reused.
/// Measured in alternating runs: `repprobe run` on that model, 6.6–7.1 s wall and 0.9–1.2 s
/// system time instead of 7.2–8.9 s and 1.7–2.5 s, with half the page faults; the peak
/// memory of `cka`, `pca`, the demo and a streamed capture of 50 000 inputs moved by at
/// most 2 %.
package enum AllocatorSettings {
    /// Applies the settings the first time it is read (the command-line tool at start,
    /// compiling a network and creating a training tape).
    package static let applied: Bool = {
        let mmapThreshold = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        let mmapCount = mallopt(M_MMAP_MAX, 0)
        let trimThreshold = mallopt(M_TRIM_THRESHOLD, 256 << 20)
        return mmapThreshold == 1 && mmapCount == 1 && trimThreshold == 1
    }()
}
