import Foundation
import Grounding

/// The grounding runs a `--grounder` value names: one run folder, or several separated by commas,
/// so that experts trained apart (an X-ray run, a CT + MRI run) serve one dataset together, as
/// Med-GLIP's modality-specific experts do. Each modality goes to the first run that knows it.
public struct GrounderSet {
    public let runs: [(folder: URL, grounder: Grounder)]

    /// `source`: the recorded run folder list ("A" or "A,B").
    public init(source: String) throws {
        let folders = Self.folders(source)
        guard !folders.isEmpty else { throw PipelineError("--grounder names no run folder") }
        runs = try folders.map { ($0, try Grounder(runFolder: $0)) }
    }

    /// The run serving `modality` (compared without regard to case, so SLAKE's "X-Ray" finds
    /// "X-ray") and the name that run gives it.
    public func expert(for modality: String) -> (run: Int, modality: String)? {
        for i in runs.indices { if let name = name(of: modality, inRun: i) { return (i, name) } }
        return nil
    }

    /// The name run `i` gives `modality` (matched without regard to case), if it knows it.
    public func name(of modality: String, inRun i: Int) -> String? {
        runs[i].grounder.run.prompts.keys.first { $0.lowercased() == modality.lowercased() }
    }

    /// Every modality some run knows, sorted.
    public var modalities: [String] { Set(runs.flatMap { $0.grounder.run.prompts.keys }).sorted() }

    /// `source` with every folder made absolute, so a recorded source works from any directory.
    public static func absolute(_ source: String) -> String { folders(source).map(\.path).joined(separator: ",") }

    public static func folders(_ source: String) -> [URL] { source.split(separator: ",").map { URL(fileURLWithPath: String($0)) } }

    /// The folders' last components joined by "+", for tables.
    public static func name(_ source: String) -> String { folders(source).map(\.lastPathComponent).joined(separator: "+") }
}
