import CAllocator

/// How the engine's process allocates tensor storage.
public enum AllocatorTuning {
    /// Keeps freed tensor storage in the process for the next step to reuse. By default glibc maps
    /// each large block fresh from the system and returns it when freed (and trims the heap top),
    /// so every activation of every step page-faults its memory in again: 400 thousand faults in 10
    /// steps of one encoder layer. Blocks up to 32 MiB (glibc's limit) now come from the heap.
    public static func keepFreedMemory() {
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, Int32.max)
        _ = mallopt(M_TOP_PAD, 64 << 20)
    }
}
