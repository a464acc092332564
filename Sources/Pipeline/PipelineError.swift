/// A grounding source that cannot serve a dataset (no true boxes beside the images, a grounder that
/// knows none of its modalities): printed as the message alone.
public struct PipelineError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
