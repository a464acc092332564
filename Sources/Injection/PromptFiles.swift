import Foundation

/// The templates in the repository's `Prompts/` folder, found at run time like `Corpora/`.
public enum PromptFiles {
    public struct NotFound: Error, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
    }

    /// `MEDGLIP_PROMPTS` if set, else the first `Prompts` folder (holding a README.md) found walking
    /// up from the working directory or from the executable's folder.
    public static func directory() throws -> URL {
        let fm = FileManager.default
        if let env = ProcessInfo.processInfo.environment["MEDGLIP_PROMPTS"] { return URL(fileURLWithPath: env) }
        for start in [fm.currentDirectoryPath, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path] {
            var dir = URL(fileURLWithPath: start).standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("Prompts")
                if fm.fileExists(atPath: candidate.appendingPathComponent("README.md").path) { return candidate }
                dir.deleteLastPathComponent()
            }
        }
        throw NotFound(path: "Prompts", problem: "templates not found: run from the MedGLIP repository or set MEDGLIP_PROMPTS to its Prompts folder")
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ relative: String) throws -> T {
        let url = try directory().appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw NotFound(path: url.path, problem: "no such file") }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw NotFound(path: url.path, problem: "not a valid template file: \(error)")
        }
    }
}
