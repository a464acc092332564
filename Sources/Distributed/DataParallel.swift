import Dispatch
import Tensor

extension Communicator {
    /// Floats per message: a few MB, so a large model goes out in several buckets instead of one
    /// copy of every gradient at once.
    static let bucketFloats = 1 << 20

    /// Gives every rank the root's weights and buffers of `module`, in name order.
    public func broadcast(_ module: Module) throws {
        try broadcast(module.stateDict().sorted { $0.key < $1.key }.map(\.value))
    }

    /// Gives every rank the root's values of `tensors` (initial weights, a resumed checkpoint).
    public func broadcast(_ tensors: [Tensor]) throws {
        guard usesMPI else { return }
        for bucket in Self.buckets(tensors.map(\.count)) {
            var flat = [Float]()
            flat.reserveCapacity(bucket.floats)
            for t in bucket.tensors { flat += tensors[t].data }
            var bytes = flat.withUnsafeBytes { [UInt8]($0) }
            bytes = try broadcast(bytes)
            bytes.withUnsafeBytes { raw in
                let values = raw.bindMemory(to: Float.self)
                var offset = 0
                for t in bucket.tensors {
                    let n = tensors[t].count
                    tensors[t].data.withUnsafeMutableBufferPointer { out in
                        for i in 0..<n { out[i] = values[offset &+ i] }
                    }
                    offset += n
                }
            }
        }
    }

    /// Sums the parameters' gradients over the ranks, in buckets. A rank whose part of the batch
    /// did not reach a parameter adds zeros; a parameter no rank reached keeps no gradient, as it
    /// would in one process (the optimizer skips it).
    public func sumGradients(_ params: [Tensor]) throws {
        guard usesMPI else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            traffic.reductions += 1
            traffic.seconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var reached = params.map { $0.grad == nil ? Float(0) : 1 }
        try sum(&reached)
        let live = params.indices.filter { reached[$0] > 0 }
        for bucket in Self.buckets(live.map { params[$0].count }) {
            var flat = [Float](repeating: 0, count: bucket.floats)
            var offset = 0
            for t in bucket.tensors {
                let p = params[live[t]]
                if let g = p.grad { flat.replaceSubrange(offset..<(offset + p.count), with: g) }
                offset += p.count
            }
            try sum(&flat)
            traffic.bytes += flat.count * MemoryLayout<Float>.size
            offset = 0
            for t in bucket.tensors {
                let p = params[live[t]]
                p.grad = Array(flat[offset..<(offset + p.count)])
                offset += p.count
            }
        }
    }

    /// Consecutive runs of tensors of at most `bucketFloats` floats (a larger tensor goes alone).
    static func buckets(_ counts: [Int]) -> [(tensors: Range<Int>, floats: Int)] {
        var result: [(tensors: Range<Int>, floats: Int)] = [], start = 0, floats = 0
        for (i, n) in counts.enumerated() {
            if floats > 0 && floats + n > bucketFloats {
                result.append((start..<i, floats))
                start = i; floats = 0
            }
            floats += n
        }
        if start < counts.count { result.append((start..<counts.count, floats)) }
        return result
    }
}

/// Gradients of a rank's micro-batches, each part's kept apart and summed at the end, as the
/// ranks' are by the allreduce: one process with N parts adds exactly what N ranks add (with two,
/// bit for bit), rather than accumulating every use of a weight into one running sum.
public struct PartGradients {
    private var sums: [[Float]?]

    public init(_ params: [Tensor]) { sums = Array(repeating: nil, count: params.count) }

    /// Takes the parameters' gradients of the part just computed, leaving them empty.
    public mutating func take(_ params: [Tensor]) {
        for (i, p) in params.enumerated() {
            guard let g = p.grad else { continue }
            if sums[i] == nil {
                sums[i] = g
            } else {
                sums[i]!.withUnsafeMutableBufferPointer { s in for j in 0..<g.count { s[j] += g[j] } }
            }
            p.grad = nil
        }
    }

    /// Puts the summed gradients back into the parameters.
    public func restore(_ params: [Tensor]) {
        for (i, p) in params.enumerated() { p.grad = sums[i] }
    }
}

extension Communicator {
    /// A resumed run on every rank: rank 0 runs `load` (the last weights, the optimizer state and
    /// the history from the run folder), then every rank gets its optimizer state and history (the
    /// weights follow when training starts).
    public func resumed<History: Codable>(_ optimizer: some Optimizer, empty: History, load: () throws -> History) throws -> History {
        let history = isRoot ? try load() : empty
        try broadcast(optimizer.stateTensors().map(\.1))
        return try broadcast(history)
    }
}
