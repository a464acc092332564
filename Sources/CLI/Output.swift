import Foundation

/// One JSON value as text with sorted keys (one line unless `pretty`): what `--json` prints and
/// what a JSON-lines file holds per line.
func jsonText(_ object: Any, pretty: Bool = false) throws -> String {
    String(
        decoding: try JSONSerialization.data(withJSONObject: object, options: pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]),
        as: UTF8.self)
}

func printJSON(_ object: Any, pretty: Bool = false) throws { print(try jsonText(object, pretty: pretty)) }

/// A data error (a file's content, a run that does not exist): printed as the message alone and
/// exit status 1, where a usage error (`ValidationError`) prints the usage line and exits 64.
struct DataError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
