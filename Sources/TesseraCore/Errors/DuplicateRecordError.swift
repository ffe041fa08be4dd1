/// Thrown by stores when a unique constraint refuses a write.
public struct DuplicateRecordError: Error, Sendable {
    public let what: String
    public init(what: String) { self.what = what }
}
