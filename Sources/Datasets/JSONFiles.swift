import Foundation
import Tensor

/// Reads and decodes a JSON file; errors say which file, and where in it, is wrong.
public func decodeJSON<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
    guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError(url, "no such file") }
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw DatasetError(url, "cannot be read") }
    do { return try JSONDecoder().decode(T.self, from: data) } catch let error as DecodingError {
        throw DatasetError(url, describe(error))
    }
}

/// A DecodingError in words: "missing key 'bbox' at annotations[3]".
func describe(_ error: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
        let p = c.codingPath.reduce("") { acc, key in
            if let i = key.intValue { return acc + "[\(i)]" }
            return acc.isEmpty ? key.stringValue : acc + "." + key.stringValue
        }
        return p.isEmpty ? "the top level" : p
    }
    switch error {
    case let .keyNotFound(key, c): return "missing key '\(key.stringValue)' at \(path(c))"
    case let .typeMismatch(type, c): return "wrong type at \(path(c)): expected \(type)"
    case let .valueNotFound(type, c): return "null at \(path(c)): expected \(type)"
    case let .dataCorrupted(c):
        if c.codingPath.isEmpty {
            let detail = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return "malformed JSON" + (detail.map { " (\($0))" } ?? "")
        }
        return "invalid value at \(path(c)): \(c.debugDescription)"
    @unknown default: return "cannot be decoded"
    }
}

/// Encodes as pretty, key-sorted JSON and writes atomically.
public func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    do { try writeAtomically(try encoder.encode(value), to: url) } catch {
        throw DatasetError(url, "cannot write: \(error)")
    }
}
