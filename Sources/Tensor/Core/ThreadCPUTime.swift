import Foundation

/// Time on a CPU of each of the process's threads (Linux `/proc/self/task/<tid>/schedstat`, nanoseconds),
/// so a profile can show whether a thread pool spins: spinning costs CPU time while no work is done.
public struct ThreadCPUTimes: Sendable {
    /// Nanoseconds on a CPU so far, by thread id; empty where `/proc` has no schedstat.
    public let byThread: [Int: UInt64]

    public static func sample() -> ThreadCPUTimes {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        var times: [Int: UInt64] = [:]
        for task in tasks {
            guard let tid = Int(task), let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/schedstat", encoding: .utf8),
                let first = stat.split(separator: " ").first, let ns = UInt64(first)
            else { continue }
            times[tid] = ns
        }
        return ThreadCPUTimes(byThread: times)
    }

    /// CPU nanoseconds each thread used since `earlier` (threads started since count from zero).
    public func since(_ earlier: ThreadCPUTimes) -> [Int: UInt64] {
        Dictionary(uniqueKeysWithValues: byThread.map { tid, ns in (tid, ns - min(ns, earlier.byThread[tid] ?? 0)) })
    }
}
