import Foundation

/// A run folder that cannot be used as asked; says which and what to do instead.
public struct RunFolderError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Where a training run writes, chosen so that no run, finished or partial, is ever overwritten.
public enum RunFolder {
    /// Files whose presence marks a folder as holding a run (trainers of every task write some of them).
    static let markers = ["config.json", "history.json", "last.safetensors", "model.safetensors", "finished.json", "optimizer.safetensors"]

    /// The run files `folder` holds, sorted; empty for a folder without a run (or none at all).
    public static func runFiles(in folder: URL) -> [String] {
        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        return markers.filter(present.contains).sorted()
    }

    /// The folder for a new run. An explicit `--out` must not hold a run; without one, the first of
    /// `base`, `base-2`, `base-3`, ... that holds none, so running a command twice keeps both runs.
    public static func forNewRun(explicit: URL?, default base: URL) throws -> URL {
        if let explicit {
            let files = runFiles(in: explicit)
            guard files.isEmpty else {
                throw RunFolderError(
                    """
                    \(explicit.path) already holds a run (\(files.joined(separator: ", "))); nothing was changed. \
                    Pass --resume to continue it, or --out with a new folder.
                    """)
            }
            return explicit
        }
        return candidates(base).first { runFiles(in: $0).isEmpty }!
    }

    /// The folder `--resume` continues: the explicit one, or the newest default-named run (`base-N`
    /// with the largest N, or `base`). It must hold a run.
    public static func forResume(explicit: URL?, default base: URL) throws -> URL {
        let folder = explicit ?? candidates(base).prefix { !runFiles(in: $0).isEmpty }.last ?? base
        guard !runFiles(in: folder).isEmpty else {
            throw RunFolderError("--resume: \(folder.path) holds no run (no config.json, history.json or checkpoint) to continue")
        }
        return folder
    }

    /// The folder a training command writes: `forResume` or `forNewRun`, with the temporaries a
    /// killed earlier process left there removed.
    public static func choose(resume: Bool, out: String?, default base: URL) throws -> URL {
        let explicit = out.map { URL(fileURLWithPath: $0) }
        let folder = try resume ? forResume(explicit: explicit, default: base) : forNewRun(explicit: explicit, default: base)
        removeStaleTemporaries(in: folder)
        return folder
    }

    /// An option of a `--resume` asks for another model than the run's.
    public static func changedOnResume(_ option: String, was: String, now: String) -> RunFolderError {
        RunFolderError("--resume: the run was trained with \(option) \(was), this command asks for \(now); resume without it, or start a new run")
    }

    /// Deletes the temporaries (`.NAME.tmp-PID`, see `writeAtomically`) of processes that no longer
    /// run, left behind by a kill; returns their names.
    @discardableResult
    public static func removeStaleTemporaries(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { name in
            guard name.hasPrefix("."), let range = name.range(of: ".tmp-", options: .backwards),
                let pid = Int32(name[range.upperBound...]), pid > 0, kill(pid, 0) != 0, errno == ESRCH
            else { return false }
            return (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil
        }.sorted()
    }

    private static func candidates(_ base: URL) -> some Sequence<URL> {
        (1...).lazy.map { $0 == 1 ? base : URL(fileURLWithPath: base.path + "-\($0)") }
    }
}
