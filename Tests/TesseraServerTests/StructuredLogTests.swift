import Foundation
import HTTPTypes
import Logging
import Synchronization
import TesseraServer
import Testing

/// The JSON log handler's lines, and the access log and request id over the router.
@Suite("Structured logs")
struct StructuredLogTests {
    /// The lines a `JSONLogHandler` wrote, each parsed.
    final class CapturedLines: Sendable {
        private let lines = Mutex<[String]>([])

        func handler(label: String = "test") -> JSONLogHandler {
            JSONLogHandler(label: label) { bytes in self.lines.withLock { $0.append(String(decoding: bytes, as: UTF8.self)) } }
        }

        var raw: [String] { lines.withLock { $0 } }

        func objects() throws -> [[String: Any]] {
            try raw.map { line in
                #expect(line.hasSuffix("\n") && line.dropLast().split(separator: "\n", omittingEmptySubsequences: false).count == 1, "\(line)")
                return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
            }
        }
    }

    @Test("a line is one JSON object: the fixed members first, the metadata sorted, numbers and Booleans as such")
    func lineShape() throws {
        let captured = CapturedLines()
        var logger = Logger(label: "tessera") { captured.handler(label: $0) }
        logger[metadataKey: "hb.request.id"] = "abc123"
        logger.info(
            "hello",
            metadata: [
                "status": .stringConvertible(401), "duration_ms": .stringConvertible(1.25), "route": "/api/me", "ok": .stringConvertible(false),
                "message": "clash", "nested": .dictionary(["b": "2", "a": .array(["x", .stringConvertible(3)])]),
                "nan": .stringConvertible(Double.nan),
            ]
        )
        let line = try #require(captured.raw.first)
        #expect(line.hasPrefix(#"{"time":""#))
        #expect(line.contains(#"","level":"info","label":"tessera","message":"hello","_message":"clash","duration_ms":1.25,"#))
        #expect(
            line.hasSuffix(#""nan":"nan","nested":{"a":["x",3],"b":"2"},"ok":false,"request_id":"abc123","route":"/api/me","status":401}"# + "\n")
        )
        let object = try #require(try captured.objects().first)
        let time = try #require(object["time"] as? String)
        #expect(time.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil, "\(time)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let parsed = try #require(formatter.date(from: time))
        #expect(abs(parsed.timeIntervalSinceNow) < 5)
        #expect(object["hb.request.id"] == nil)
    }

    @Test(
        "strings are escaped so that no value can end or split its line",
        arguments: [
            "quote \" backslash \\ slash /", "line\nfeed\rreturn\ttab", "nul \u{0} bell \u{7} escape \u{1B} del \u{7F}",
            "next line \u{85} and C1 \u{9F}", "separators \u{2028} \u{2029}", "not escaped: é ’ € 😀 \u{A0} \u{2027} \u{202A}",
        ]
    )
    func escaping(text: String) throws {
        let captured = CapturedLines()
        let logger = Logger(label: "t") { captured.handler(label: $0) }
        logger.notice("\(text)", metadata: [text: .string(text)])
        let line = try #require(captured.raw.first)
        let body = line.dropLast()
        #expect(!body.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" })
        let object = try #require(try captured.objects().first)
        #expect(object["message"] as? String == text)
        #expect(object[text] as? String == text)
        #expect(object["level"] as? String == "notice")
    }

    @Test("an announcement is written whatever the level")
    func announcement() throws {
        let captured = CapturedLines()
        var handler = captured.handler(label: "tessera")
        handler.logLevel = .error
        handler.announce("Tessera listening on http://127.0.0.1:1 (pid 1)", metadata: ["address": "http://127.0.0.1:1"])
        let object = try #require(try captured.objects().first)
        #expect(object["message"] as? String == "Tessera listening on http://127.0.0.1:1 (pid 1)")
        #expect(object["level"] as? String == "notice")
    }

    @Test("one access line per request, with the route pattern, the request id kept or made and returned, and the same id audited")
    func accessLog() async throws {
        let captured = CapturedLines()
        var logger = Logger(label: "tessera") { captured.handler(label: $0) }
        logger.logLevel = .info
        try await LakeHarness.runInProcess(logger: logger) { lake in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6Im5vbmUifQ.eyJzdWIiOiJkZW1vIiwib3JnX2lkIjoiZGF0YXJlc2lsaWVuY3kifQ.c2ln"
            headers[HTTPField.Name("X-Request-Id")!] = "trace-1"
            let refused = try await lake.send(.get, "/api/me", headers: headers)
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[HTTPField.Name("X-Request-Id")!] == "trace-1")
            let made = try await lake.send(
                .post,
                "/api/admin/users/someone/unlock?x=query-value",
                headers: [
                    .authorization: LakeHarness.basicAuthorization("demo", LakeHarness.password),
                    HTTPField.Name("X-Request-Id")!: String(repeating: "z", count: 129),
                ]
            )
            #expect(made.status == .notFound)
            let madeID = try #require(made.headers[HTTPField.Name("X-Request-Id")!])
            #expect(madeID != String(repeating: "z", count: 129) && !madeID.isEmpty)
            let audit = try await lake.request(.get, "/api/admin/audit?action=lake.authenticate")
            let events = try #require(audit.json["items"] as? [[String: Any]])
            #expect(events.map { $0["request_id"] as? String } == ["trace-1"])

            let access = try captured.objects().filter { $0["message"] as? String == "request" }
            let first = try #require(access.first { $0["request_id"] as? String == "trace-1" })
            #expect(first["route"] as? String == "/api/me" && first["status"] as? Int == 401 && first["method"] as? String == "GET")
            #expect(first["credential"] as? String == "lake_jwt" && first["code"] as? String == "key_unknown")
            #expect((first["duration_ms"] as? Double).map { $0 >= 0 } == true)
            let second = try #require(access.first { $0["request_id"] as? String == madeID })
            #expect(second["route"] as? String == "/api/admin/users/{username}/unlock" && second["status"] as? Int == 404)
            #expect(second["credential"] as? String == "password" && second["code"] as? String == "user_not_found")
            #expect(!captured.raw.joined().contains("someone") && !captured.raw.joined().contains("query-value"))
        }
    }
}
