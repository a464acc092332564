import Foundation

/// A JSON-lines file's objects with their line numbers (blank lines skipped); a missing file or a
/// line that is not a JSON object is an error naming the file and the line.
enum JSONLines {
    static func objects(_ url: URL) throws -> [(line: Int, object: [String: Any])] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw ScoreInputError(path: url.path, problem: "no such file") }
        var out: [(line: Int, object: [String: Any])] = []
        for (n, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw ScoreInputError(path: url.path, problem: "line \(n + 1): not a JSON object")
            }
            out.append((n + 1, o))
        }
        return out
    }
}
