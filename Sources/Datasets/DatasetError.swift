import Foundation

/// A dataset file could not be used; names the file and what is wrong with it.
public struct DatasetError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String

    public init(_ path: String, _ problem: String) { self.path = path; self.problem = problem }
    public init(_ url: URL, _ problem: String) { self.init(url.path, problem) }

    public var description: String { "\(path): \(problem)" }
}
