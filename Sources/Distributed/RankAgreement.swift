import Foundation

extension Communicator {
    /// Checks that every rank was started with the same `facts` (name -> fingerprint: the options,
    /// the annotation file); the error names what differs and on which ranks.
    public func requireAgreement(_ facts: [(name: String, fingerprint: String)]) throws {
        guard usesMPI else { return }
        let all = try allGather([facts.map { "\($0.name)=\($0.fingerprint)" }])
        var differences: [String] = []
        for (i, fact) in facts.enumerated() {
            let ranks = all.indices.filter { all[$0].count > i && all[$0][i] != all[0][i] }
            if !ranks.isEmpty {
                differences.append("\(fact.name) differs from rank 0's on rank(s) \(ranks.map(String.init).joined(separator: ", "))")
            }
        }
        if !differences.isEmpty {
            throw CommunicatorError(
                rank: rank, operation: "start", problem: differences.joined(separator: "; ") + ": start every rank with the same options and data")
        }
    }
}

/// FNV-1a, 64 bits: a fingerprint of bytes that is the same on every machine (Swift's `Hasher` is
/// seeded per process).
public struct Fingerprint {
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    public init() {}

    public mutating func add(_ bytes: some Sequence<UInt8>) {
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
    }

    public var hex: String { String(hash, radix: 16) }

    /// The fingerprint of a file's contents, read in chunks.
    public static func of(file: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var print = Fingerprint()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { print.add(chunk) }
        return print.hex
    }

    public static func of(_ text: String) -> String {
        var print = Fingerprint()
        print.add(text.utf8)
        return print.hex
    }
}
