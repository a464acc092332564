import Foundation

/// A file could not be written; names the file and the system's reason.
public struct FileWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

/// Writes `data` to a temporary file beside `url`, syncs it, and renames it into place.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let dir = url.deletingLastPathComponent()
    let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)")
    let fd = open(tmp.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw FileWriteError(path: url.path, reason: "cannot create \(tmp.path): \(String(cString: strerror(errno)))") }
    var failure: String?
    data.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
            let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
            if n <= 0 { failure = String(cString: strerror(errno)); break }
            done += n
        }
    }
    if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
    close(fd)
    if failure == nil, rename(tmp.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
    if let failure {
        unlink(tmp.path)
        throw FileWriteError(path: url.path, reason: "write failed: \(failure)")
    }
}
