/// The format of `tessera serve`'s log (`--log-format`, `TESSERA_LOG_FORMAT`): `text`, swift-log's
/// standard lines on standard error (the default), or `json`, one object per line on standard
/// output (`JSONLogHandler`), the CLI's announcements included.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}
