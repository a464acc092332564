import Foundation

/// The readable specification files shipped in the repository's `Corpora/` folder (corpus
/// vocabularies, labeler phrase lists), found at run time.
public enum SpecFiles {
    public struct NotFound: Error, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
        public init(path: String, problem: String) { self.path = path; self.problem = problem }
    }

    /// `MEDGLIP_CORPORA` if set, else the first `Corpora` folder (holding a README.md) found walking
    /// up from the working directory or from the executable's folder.
    public static func directory() throws -> URL {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["MEDGLIP_CORPORA"] {
            guard fm.fileExists(atPath: env) else { throw NotFound(path: env, problem: "MEDGLIP_CORPORA points to a missing folder") }
            return URL(fileURLWithPath: env)
        }
        let starts = [
            URL(fileURLWithPath: fm.currentDirectoryPath),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        ]
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("Corpora")
                if fm.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate }
                dir.deleteLastPathComponent()
            }
        }
        throw NotFound(
            path: "Corpora", problem: "specification files not found: run from the MedGLIP repository or set MEDGLIP_CORPORA to its Corpora folder")
    }

    /// The bytes of `Corpora/<relative>`.
    public static func data(_ relative: String) throws -> Data {
        let url = try directory().appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw NotFound(path: url.path, problem: "no such file") }
        return data
    }
}
