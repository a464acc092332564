import Foundation
import Tensor

/// The training command an ablation run was started with (`ablate-run.json` in its folder), so a
/// re-run reuses or resumes the run only when it asks for the same one.
public enum AblationRunRecord {
    static let file = "ablate-run.json"

    /// Whether `folder` holds a run started with `trainArguments`; false when it holds none. A run
    /// started with other arguments is an error naming the first difference.
    public static func check(_ folder: URL, trainArguments: [String]) throws -> Bool {
        let runFiles = RunFolder.runFiles(in: folder)
        guard !runFiles.isEmpty else { return false }
        let url = folder.appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: url.path),
            let recorded = try? JSONDecoder().decode([String].self, from: data)
        else {
            throw RunFolderError(
                "\(folder.path) holds a run (\(runFiles.joined(separator: ", "))) that this ablation did not start "
                    + "(no readable \(file)); nothing was changed: choose another --out")
        }
        guard recorded != trainArguments else { return true }
        throw RunFolderError(
            "\(folder.path) holds a run started with other settings: \(firstDifference(recorded, trainArguments)); "
                + "nothing was changed: choose another --out, or run the ablation with the settings it was started with")
    }

    public static func write(_ folder: URL, trainArguments: [String]) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted]
        try writeAtomically(try encoder.encode(trainArguments), to: folder.appendingPathComponent(file))
    }

    /// "--epochs 1 then, 3 now", naming an option by the flag before its value.
    static func firstDifference(_ was: [String], _ now: [String]) -> String {
        func options(_ args: [String]) -> [String: String] {
            var out: [String: String] = [:], i = 0
            while i < args.count {
                let hasValue = i + 1 < args.count && !args[i + 1].hasPrefix("--")
                out[args[i]] = hasValue ? args[i + 1] : "(set)"
                i += hasValue ? 2 : 1
            }
            return out
        }
        let (a, b) = (options(was), options(now))
        for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
            return "\(key) \(a[key] ?? "(not given)") then, \(b[key] ?? "(not given)") now"
        }
        return "the same options in another order"
    }
}
