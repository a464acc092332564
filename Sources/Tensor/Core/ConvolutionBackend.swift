import Foundation
import Synchronization

/// Which kernels run 2-D convolutions.
///
/// `onednn` (the default) runs oneDNN's direct JIT kernels; `im2col` unfolds patches and runs one
/// GEMM per image through OpenBLAS. The environment variable `MEDGLIP_CONV=im2col` or a command's
/// `--conv im2col` selects the fallback for a whole process; tests compare the two per task.
public enum ConvolutionBackend: String, CaseIterable, Sendable {
    case onednn, im2col

    private static let configured = Atomic<Int>(-1)

    /// A scoped choice that wins over the process-wide one (tests run both paths side by side).
    @TaskLocal public static var scoped: ConvolutionBackend?

    /// The backend in effect here: the scoped choice, else the process-wide one, else `MEDGLIP_CONV`, else oneDNN.
    public static var current: ConvolutionBackend {
        if let scoped { return scoped }
        let c = configured.load(ordering: .relaxed)
        if c >= 0 { return allCases[c] }
        return fromEnvironment
    }

    /// Sets the backend for the whole process.
    public static func set(_ backend: ConvolutionBackend) {
        configured.store(allCases.firstIndex(of: backend)!, ordering: .relaxed)
    }

    private static let fromEnvironment: ConvolutionBackend = {
        guard let value = ProcessInfo.processInfo.environment["MEDGLIP_CONV"], !value.isEmpty else { return .onednn }
        guard let backend = ConvolutionBackend(rawValue: value.lowercased()) else {
            FileHandle.standardError.write(Data("warning: MEDGLIP_CONV=\(value) is not one of onednn, im2col; using onednn\n".utf8))
            return .onednn
        }
        return backend
    }()
}
