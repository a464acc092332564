import Dispatch

/// Where a training step's time goes: per op kind (forward and backward apart), per model part,
/// and per phase (data loading, forward, backward, optimizer). `medglip bench profile` prints it.
///
/// Active only inside `Profiler.$current.withValue(profiler) { ... }` on the calling thread.
/// An op's forward time is the time since the previous op (or mark) ended, so Swift code between
/// two ops is charged to the second; its backward time is exactly its backward function's.
public final class Profiler: @unchecked Sendable {
    @TaskLocal public static var current: Profiler?

    public enum Phase: String, CaseIterable, Sendable, Codable {
        case data = "data loading", forward, backward, optimizer
    }

    public struct Entry: Sendable, Codable {
        public let op: String, part: String
        public var forwardSeconds = 0.0, backwardSeconds = 0.0, calls = 0
    }

    public private(set) var entries: [Entry] = []
    public private(set) var phaseSeconds: [Phase: Double] = [:]
    private var index: [String: Int32] = [:]
    private var parts: [String] = []
    private var phase: Phase?
    private var phaseStart: UInt64 = 0
    private var last: UInt64 = 0

    public init() {}

    /// Starts `phase` (ending the one before); `nil` ends the current phase.
    public static func enter(_ phase: Phase?) { current?.enter(phase) }

    /// Runs `body` as the named part of the model (nested parts join with "/").
    public static func part<R>(_ name: String, _ body: () throws -> R) rethrows -> R {
        guard let p = current else { return try body() }
        p.mark()
        p.parts.append(name)
        defer { p.mark(); p.parts.removeLast() }
        return try body()
    }

    func enter(_ next: Phase?) {
        let now = Self.now()
        if let phase { phaseSeconds[phase, default: 0] += Double(now &- phaseStart) / 1e9 }
        phase = next
        phaseStart = now
        last = now
    }

    /// Time since the previous event, charged to nothing (a part boundary).
    private func mark() { last = Self.now() }

    /// Charges the time since the previous event to `op`'s forward pass; returns its entry for the backward pass.
    func forward(_ op: StaticString) -> Int32 {
        let now = Self.now()
        let slot = slot(op)
        entries[Int(slot)].forwardSeconds += Double(now &- last) / 1e9
        entries[Int(slot)].calls += 1
        last = now
        return slot
    }

    func backward(_ slot: Int32, _ body: () -> Void) {
        let start = Self.now()
        body()
        // A slot from another profiler's forward pass (or none) is not charged.
        if slot >= 0, Int(slot) < entries.count { entries[Int(slot)].backwardSeconds += Double(Self.now() &- start) / 1e9 }
    }

    private func slot(_ op: StaticString) -> Int32 {
        let part = parts.joined(separator: "/")
        let key = "\(op)|\(part)"
        if let s = index[key] { return s }
        let s = Int32(entries.count)
        entries.append(Entry(op: Self.opName(op), part: part))
        index[key] = s
        return s
    }

    /// `conv2d(_:weight:bias:_:)` -> `conv2d`, `+(_:_:)` -> `add`.
    static func opName(_ function: StaticString) -> String {
        let name = String(describing: function).prefix { $0 != "(" }
        let operators = ["+": "add", "-": "subtract", "*": "multiply", "/": "divide", "prefix -": "negate"]
        return operators[String(name)] ?? String(name)
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}

extension Profiler {
    /// One row of the per-op table: times per step.
    public struct Row: Sendable {
        public let op: String, part: String
        public let forwardMs: Double, backwardMs: Double, callsPerStep: Double
        public var totalMs: Double { forwardMs + backwardMs }
    }

    /// Per-op rows averaged over `steps`, largest first.
    public func rows(steps: Int) -> [Row] {
        let n = Double(max(steps, 1))
        return entries.map {
            Row(
                op: $0.op, part: $0.part.isEmpty ? "(no part)" : $0.part, forwardMs: $0.forwardSeconds * 1e3 / n,
                backwardMs: $0.backwardSeconds * 1e3 / n, callsPerStep: Double($0.calls) / n)
        }.sorted { $0.totalMs > $1.totalMs }
    }

    /// Milliseconds per step in each phase.
    public func phaseMs(steps: Int) -> [Phase: Double] { phaseSeconds.mapValues { $0 * 1e3 / Double(max(steps, 1)) } }
}
