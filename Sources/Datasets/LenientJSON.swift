import Foundation
import Imaging

/// A JSON file read for `data inspect`: its arrays are decoded element by element, so a bad
/// element is one listed problem ("train.json: [12]: missing key 'answer'") and the others are
/// still checked. A missing or malformed file is an error: there is nothing else to inspect.
struct LenientJSON {
    let url: URL
    let root: Any

    init(_ url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw DatasetError(url, "no such file") }
        guard let root = try? JSONSerialization.jsonObject(with: data) else { throw DatasetError(url, "malformed JSON") }
        self.url = url; self.root = root
    }

    /// The elements of the array at `key` (the top level when nil) that decode as `T`; every other one is a problem.
    func elements<T: Decodable>(_ type: T.Type, at key: String? = nil, problems: inout [String]) -> [T] {
        let name = url.lastPathComponent, prefix = key ?? ""
        let value = key.map { (root as? [String: Any])?[$0] as Any } ?? root
        guard let array = value as? [Any] else {
            problems.append("\(name): \(key.map { "'\($0)'" } ?? "the top level") is not a JSON array")
            return []
        }
        var out: [T] = []
        for (i, element) in array.enumerated() {
            do {
                let data = try JSONSerialization.data(withJSONObject: element, options: [.fragmentsAllowed])
                out.append(try JSONDecoder().decode(T.self, from: data))
            } catch let error as DecodingError {
                problems.append("\(name): \(prefix)[\(i)]: \(describe(error).replacingOccurrences(of: " at the top level", with: ""))")
            } catch {
                problems.append("\(name): \(prefix)[\(i)]: \(error)")
            }
        }
        return out
    }
}

/// Decodes every image in `urls` (in parallel); the problem of each one that is missing or does not decode.
func imageProblems(_ urls: [URL]) -> [URL: String] {
    let unique = Array(Set(urls.map(\.standardizedFileURL)))
    final class Found: @unchecked Sendable {
        let lock = NSLock()
        var problems: [URL: String] = [:]
    }
    let found = Found()
    DispatchQueue.concurrentPerform(iterations: unique.count) { i in
        let url = unique[i]
        let problem: String?
        if !FileManager.default.fileExists(atPath: url.path) {
            problem = "missing image file"
        } else {
            do { _ = try ImageIO.read(url); problem = nil } catch { problem = "unreadable image (\(error))" }
        }
        if let problem { found.lock.lock(); found.problems[url] = problem; found.lock.unlock() }
    }
    return found.problems
}
