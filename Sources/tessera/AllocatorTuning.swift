#if os(Linux)
import CGlibcMalloc
#endif

/// The server's settings for glibc's allocator, applied once at start-up.
///
/// glibc serves a request of 128 KiB or more with its own `mmap` and gives it back on `free` —
/// until the first such block is freed: then it raises its mmap threshold to that block's size
/// (up to 32 MiB) so that later blocks of that size come from its arenas instead. Tessera's
/// bounded caches (`VerifiedSignatureCache`, `ExpiringCache`, …) reallocate their storage as they
/// grow, sweep and empty, so after the first such free, blocks of hundreds of KiB are carved out
/// of the arenas among each request's small allocations, and the holes they leave are split up by
/// small ones and never returned: the soak measured a flat heap in use (`mallinfo2`) while
/// the free space held in the arenas, and with it resident memory, kept growing
/// (docs/operations.md, "The soak"). Setting the threshold explicitly turns the dynamic adjustment
/// off: large blocks stay `mmap`ped and go back to the kernel when freed.
///
/// An operator's own setting wins: with `MALLOC_MMAP_THRESHOLD_` or a `glibc.malloc.mmap_threshold`
/// in `GLIBC_TUNABLES` in the environment, nothing is changed.
enum AllocatorTuning {
    /// glibc's default threshold, made fixed.
    static let mmapThreshold: Int32 = 128 * 1024

    /// What `apply()` did, for the start-up log.
    enum Outcome: Equatable {
        case fixedMmapThreshold(bytes: Int32)
        case leftToEnvironment
        case unsupported
    }

    static func apply(environment: [String: String]) -> Outcome {
        #if os(Linux)
        if environment["MALLOC_MMAP_THRESHOLD_"] != nil
            || (environment["GLIBC_TUNABLES"] ?? "").contains("glibc.malloc.mmap_threshold")
        {
            return .leftToEnvironment
        }
        return mallopt(M_MMAP_THRESHOLD, mmapThreshold) == 1 ? .fixedMmapThreshold(bytes: mmapThreshold) : .unsupported
        #else
        return .unsupported
        #endif
    }
}
