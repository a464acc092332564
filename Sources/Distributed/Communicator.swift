import CMPI
import Foundation

/// The ranks of a data-parallel job: Open MPI's world when the process was started by `mpirun`,
/// one rank and no MPI calls at all otherwise.
public final class Communicator: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// Ranks on this machine (Open MPI's local size), for the default thread count.
    public let localSize: Int
    let usesMPI: Bool
    /// What the gradient allreduce has cost so far: its calls, their seconds and the bytes summed.
    public internal(set) var traffic = Traffic()

    public struct Traffic: Codable, Sendable, Equatable {
        public var reductions = 0
        public var seconds = 0.0
        public var bytes = 0
        public init() {}

        /// Per reduction (one per optimizer step) since `earlier`.
        public func perStep(since earlier: Traffic) -> (seconds: Double, bytes: Int)? {
            let n = reductions - earlier.reductions
            return n > 0 ? ((seconds - earlier.seconds) / Double(n), (bytes - earlier.bytes) / n) : nil
        }
    }

    public var isRoot: Bool { rank == 0 }
    public var isDistributed: Bool { size > 1 }

    init(rank: Int, size: Int, localSize: Int, usesMPI: Bool) {
        self.rank = rank; self.size = size; self.localSize = localSize; self.usesMPI = usesMPI
    }

    /// One process alone.
    public static let single = Communicator(rank: 0, size: 1, localSize: 1, usesMPI: false)

    /// Started by mpirun: Open MPI tells every process it launches its world size.
    public static var launchedByMPI: Bool { ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil }

    private static let launched: Result<Communicator, CommunicatorError> = {
        guard launchedByMPI else { return .success(single) }
        let code = medglip_mpi_init()
        guard code == MPI_SUCCESS else { return .failure(CommunicatorError(rank: 0, operation: "MPI_Init", code: code)) }
        let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
        return .success(Communicator(rank: Int(medglip_mpi_rank()), size: Int(medglip_mpi_size()), localSize: max(1, local), usesMPI: true))
    }()

    /// The job this process belongs to; MPI is initialised on the first call (once per process).
    public static func world() throws -> Communicator { try launched.get() }

    func check(_ code: Int32, _ operation: String) throws {
        guard code == MPI_SUCCESS else { throw CommunicatorError(rank: rank, operation: operation, code: code) }
    }

    /// Sums `values` element-wise over the ranks, in place.
    public func sum(_ values: inout [Float]) throws {
        guard usesMPI, !values.isEmpty else { return }
        let code = values.withUnsafeMutableBufferPointer { medglip_mpi_allreduce_sum_float($0.baseAddress, Int32($0.count)) }
        try check(code, "MPI_Allreduce")
    }

    /// Sums `values` element-wise over the ranks, in place.
    public func sum(_ values: inout [Double]) throws {
        guard usesMPI, !values.isEmpty else { return }
        let code = values.withUnsafeMutableBufferPointer { medglip_mpi_allreduce_sum_double($0.baseAddress, Int32($0.count)) }
        try check(code, "MPI_Allreduce")
    }

    /// The root's bytes, on every rank.
    public func broadcast(_ bytes: [UInt8]) throws -> [UInt8] {
        guard usesMPI else { return bytes }
        var count = [Double(bytes.count)]
        if !isRoot { count[0] = 0 }
        try sum(&count)
        var buffer = isRoot ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        let code = buffer.withUnsafeMutableBytes { medglip_mpi_broadcast_bytes($0.baseAddress, Int32($0.count), 0) }
        try check(code, "MPI_Bcast")
        return buffer
    }

    /// Every rank's bytes, in rank order, on every rank.
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        guard usesMPI else { return [bytes] }
        var counts = [Int32](repeating: 0, count: size)
        try check(counts.withUnsafeMutableBufferPointer { medglip_mpi_allgather_int(Int32(bytes.count), $0.baseAddress) }, "MPI_Allgather")
        let total = counts.reduce(0) { $0 + Int($1) }
        guard total <= Int(Int32.max) else {
            throw CommunicatorError(rank: rank, operation: "MPI_Allgatherv", problem: "\(total) bytes from all ranks is over 2 GiB")
        }
        var offsets = [Int32](repeating: 0, count: size)
        for r in 1..<size { offsets[r] = offsets[r - 1] + counts[r - 1] }
        var received = [UInt8](repeating: 0, count: total)
        let code = bytes.withUnsafeBytes { sent in
            received.withUnsafeMutableBytes { out in
                counts.withUnsafeBufferPointer { c in
                    offsets.withUnsafeBufferPointer { o in
                        medglip_mpi_allgatherv_bytes(sent.baseAddress, Int32(sent.count), out.baseAddress, c.baseAddress, o.baseAddress)
                    }
                }
            }
        }
        try check(code, "MPI_Allgatherv")
        return (0..<size).map { r in Array(received[Int(offsets[r])..<Int(offsets[r]) + Int(counts[r])]) }
    }

    /// Waits for every rank.
    public func barrier() throws {
        guard usesMPI else { return }
        try check(medglip_mpi_barrier(), "MPI_Barrier")
    }

    /// Ends the whole job: this rank's reason on standard error, then `MPI_Abort`, which stops
    /// every other rank (mpirun reports the exit).
    public func abort(_ reason: String) -> Never {
        FileHandle.standardError.write(Data("error: rank \(rank) of \(size) failed: \(reason)\n".utf8))
        medglip_mpi_abort(1)
        exit(1)
    }

    /// Only rank 0 prints: the other ranks' standard output goes to /dev/null (errors still show).
    public func quietOtherRanks() {
        guard !isRoot else { return }
        fflush(nil)
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 { dup2(null, STDOUT_FILENO); close(null) }
    }
}

/// An MPI call that failed, with the rank it failed on.
public struct CommunicatorError: Error, CustomStringConvertible {
    public let rank: Int
    public let operation: String
    public let problem: String

    init(rank: Int, operation: String, problem: String) {
        self.rank = rank; self.operation = operation; self.problem = problem
    }

    init(rank: Int, operation: String, code: Int32) {
        var text = [CChar](repeating: 0, count: Int(medglip_mpi_max_error_string()) + 1)
        medglip_mpi_error_string(code, &text, Int32(text.count))
        self.init(rank: rank, operation: operation, problem: String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    public var description: String { "rank \(rank): \(operation) failed: \(problem)" }
}

/// An epoch's data-parallel cost, kept in `history.json` beside its throughput.
public struct DataParallelEpoch: Codable, Sendable, Equatable {
    public var ranks: Int
    public var allreduceSecondsPerStep: Double
    public var gradientBytesPerStep: Int
}

extension Communicator {
    /// The allreduce cost per step since `earlier` (nil in one process).
    public func epochSummary(since earlier: Traffic) -> DataParallelEpoch? {
        guard isDistributed, let step = traffic.perStep(since: earlier) else { return nil }
        return DataParallelEpoch(ranks: size, allreduceSecondsPerStep: step.seconds, gradientBytesPerStep: step.bytes)
    }
}
