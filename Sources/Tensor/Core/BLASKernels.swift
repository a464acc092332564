import COpenBLAS
import Foundation

/// OpenBLAS kernel selection.
///
/// Debian's OpenBLAS picks its kernels by CPU model and falls back to the SSE3 "Prescott" kernels
/// on processors it does not know (virtual machines often report a generic model), which runs
/// sgemm 2-5x slower than the AVX2/AVX-512 kernels the CPU supports. On first use we compare the
/// chosen core with the CPU's flags and, if OpenBLAS under-selected, re-run its dynamic dispatch
/// with `OPENBLAS_CORETYPE` set. A user's own `OPENBLAS_CORETYPE` is always respected.
public enum BLASKernels {
    /// The core whose kernels OpenBLAS uses (after any correction).
    public static var coreName: String { ensureSelected(); return String(cString: openblas_get_corename()) }

    /// Selects the kernels once, before the first GEMM (later calls return at once).
    static func ensureSelected() { _ = selection }

    /// Runs once (thread-safe lazy static). Also makes OpenBLAS single-threaded: the engine splits
    /// GEMMs over the cores itself (see `Threads`).
    private static let selection: Void = {
        openblas_set_num_threads(1)
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return }
        let detected = String(cString: openblas_get_corename()).lowercased()
        let generic: Set<String> = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "unknown"]
        guard generic.contains(detected), let better = bestCore() else { return }
        // The re-initialisation entry points exist only in DYNAMIC_ARCH builds: look them up.
        let process = dlopen(nil, RTLD_NOW)
        guard let initSym = dlsym(process, "gotoblas_dynamic_init"), let quitSym = dlsym(process, "gotoblas_dynamic_quit")
        else { return }
        typealias VoidFn = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", better, 1)
        unsafeBitCast(quitSym, to: VoidFn.self)()
        unsafeBitCast(initSym, to: VoidFn.self)()
        unsetenv("OPENBLAS_CORETYPE")
        openblas_set_num_threads(1)
    }()

    /// The strongest OpenBLAS core type the CPU flags allow, if any beats the generic ones.
    private static func bestCore() -> String? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
