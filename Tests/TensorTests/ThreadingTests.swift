import Foundation
import XCTest

@testable import Tensor

final class ThreadingTests: XCTestCase {
    func testKernelSelectionMatchesCPUFlags() throws {
        let info = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flags = Set(info.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ").map(String.init) ?? [])
        let core = BLASKernels.coreName.lowercased()
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, flags.isSuperset(of: ["avx2", "fma"]) {
            XCTAssertFalse(
                ["prescott", "core2", "penryn", "nehalem", "unknown"].contains(core),
                "CPU has AVX2/FMA but OpenBLAS runs \(core) kernels")
        }
    }

    func testThreadCountIsSettableAndResultsAgreeAcrossCounts() {
        let saved = Threads.count
        defer { Threads.set(saved) }
        let rng = RandomGenerator(seed: 8)
        let a = Tensor.randn([300, 400], rng: rng), b = Tensor.randn([300, 400], rng: rng)
        Threads.set(1)
        XCTAssertEqual(Threads.count, 1)
        let one = (a * b + a.exp()).data
        Threads.set(2)
        XCTAssertEqual(Threads.count, 2)
        // Elementwise kernels split work but do not reorder any sum, so results are identical.
        XCTAssertEqual((a * b + a.exp()).data, one)
    }
}
