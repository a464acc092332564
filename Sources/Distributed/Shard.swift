extension Communicator {
    /// `range` cut into `parts` contiguous pieces in order, the first `count % parts` one longer.
    public static func split(_ range: Range<Int>, into parts: Int) -> [Range<Int>] {
        let base = range.count / parts, extra = range.count % parts
        return (0..<parts).map { i in
            let start = range.lowerBound + i * base + min(i, extra)
            return start..<(start + base + (i < extra ? 1 : 0))
        }
    }

    /// This rank's part of `count` items (`split` over the ranks). Every rank draws the same global
    /// batch from the shared seed and trains on its part of it.
    public func shard(_ count: Int) -> Range<Int> { Self.split(0..<count, into: size)[rank] }

    /// This rank's parts of a global batch of `count` items split into `microBatches` parts per
    /// rank: the batch cut into ranks x `microBatches` pieces, the rank's consecutive ones (so one
    /// process with N micro-batches cuts it as N ranks do); empty pieces left out.
    public func parts(_ count: Int, microBatches: Int) -> [Range<Int>] {
        let pieces = Self.split(0..<count, into: size * microBatches)
        return pieces[(rank * microBatches)..<((rank + 1) * microBatches)].filter { !$0.isEmpty }
    }

    /// This rank's part of `items`.
    public func shard<C: RandomAccessCollection>(_ items: C) -> [C.Element] where C.Index == Int {
        let range = shard(items.count)
        return Array(items[(items.startIndex + range.lowerBound)..<(items.startIndex + range.upperBound)])
    }
}
