import Foundation

extension Communicator {
    /// The root's value, on every rank (sent as JSON).
    public func broadcast<T: Codable>(_ value: T) throws -> T {
        guard usesMPI else { return value }
        let bytes = try broadcast(isRoot ? [UInt8](JSONEncoder().encode(value)) : [])
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }

    /// Every rank's items, concatenated in rank order, on every rank: the results of work split
    /// with `shard` come back in the order of the whole.
    public func allGather<T: Codable>(_ items: [T]) throws -> [T] {
        guard usesMPI else { return items }
        return try allGather([UInt8](JSONEncoder().encode(items))).flatMap { try JSONDecoder().decode([T].self, from: Data($0)) }
    }

    /// The sum of one number over the ranks.
    public func sum(_ value: Double) throws -> Double {
        var values = [value]
        try sum(&values)
        return values[0]
    }
}
