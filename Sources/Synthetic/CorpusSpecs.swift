import Foundation
import Datasets

/// Locates the readable corpus specifications (`Corpora/` in the repository) and loads them.
public enum CorpusSpecs {
    /// `MEDGLIP_CORPORA` if set, else the first `Corpora` folder found walking up from the working
    /// directory or from the executable's folder.
    public static func directory() throws -> URL {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["MEDGLIP_CORPORA"] {
            guard fm.fileExists(atPath: env) else { throw DatasetError(env, "MEDGLIP_CORPORA points to a missing folder") }
            return URL(fileURLWithPath: env)
        }
        let starts = [URL(fileURLWithPath: fm.currentDirectoryPath),
                      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("Corpora")
                if fm.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate }
                dir.deleteLastPathComponent()
            }
        }
        throw DatasetError("Corpora", "corpus specifications not found: run from the MedGLIP repository or set MEDGLIP_CORPORA to its Corpora folder")
    }

    /// Decodes `Corpora/<relative>`.
    public static func load<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        try decodeJSON(T.self, from: directory().appendingPathComponent(relative))
    }

    /// Raw bytes of a spec file (for cache keys: a changed spec means a new corpus).
    public static func bytes(_ relative: String) throws -> Data {
        let url = try directory().appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DatasetError(url, "no such file") }
        return data
    }
}
