import Datasets
import Foundation
import Text

/// Locates the readable corpus specifications (`Corpora/` in the repository) and loads them.
public enum CorpusSpecs {
    /// The `Corpora/` folder (see `SpecFiles.directory`).
    public static func directory() throws -> URL { try SpecFiles.directory() }

    /// Decodes `Corpora/<relative>`.
    public static func load<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        try decodeJSON(T.self, from: directory().appendingPathComponent(relative))
    }

    /// Raw bytes of a spec file (for cache keys: a changed spec means a new corpus).
    public static func bytes(_ relative: String) throws -> Data { try SpecFiles.data(relative) }
}
