import Foundation
import Testing
import TesseraFuzzKit

/// Every input the fuzzer was seeded with (Tests/Fuzz/corpus) and every reproducer it ever
/// saved (Tests/Fuzz/regressions) goes through the same decoders and invariants again, without
/// the fuzzer: a crash or a broken invariant found once stays fixed. A broken invariant stops
/// the test process (a `precondition`), naming the invariant.
@Suite("Fuzz corpus and crash reproducers")
struct FuzzRegressionTests {
    static let testsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let fuzzDirectory = testsDirectory.appendingPathComponent("Fuzz")

    static func inputs(_ folder: String) throws -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") && $0.pathExtension != "md" }
    }

    @Test("the seed corpus is there, covers every decoder and runs clean")
    func corpus() throws {
        let files = try Self.inputs("corpus")
        try #require(!files.isEmpty, "Tests/Fuzz/corpus has no seed inputs")
        var selectors = Set<Int>()
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            if let first = bytes.first { selectors.insert(Int(first) % FuzzTargets.decoders.count) }
            FuzzTargets.run(bytes)
        }
        let missing = Set(FuzzTargets.decoders.indices).subtracting(selectors).sorted().map { FuzzTargets.decoders[$0] }
        #expect(missing.isEmpty, "no seed for \(missing)")
    }

    @Test("every saved crash reproducer runs clean")
    func regressions() throws {
        for file in try Self.inputs("regressions") {
            FuzzTargets.run(Array(try Data(contentsOf: file)))
        }
    }

    /// The codes a refused token may carry (`DocumentedCodes.lake`) are README's table, exactly.
    @Test("the documented refusal codes are README's Lake code table")
    func documentedCodes() throws {
        let readme = try String(contentsOf: Self.testsDirectory.deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.components(separatedBy: "\n")
        let section = try #require(lines.firstIndex(of: "### What a Lake JWT must be"), "README has no section on Lake JWTs")
        let header = try #require(lines[section...].firstIndex(of: "| `code` | when |"), "README has no Lake code table")
        var codes = Set<String>()
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("|") else { break }
            let firstCell = line.split(separator: "|", omittingEmptySubsequences: true).first ?? ""
            for (index, piece) in firstCell.split(separator: "`", omittingEmptySubsequences: false).enumerated() where index % 2 == 1 {
                codes.insert(String(piece))
            }
        }
        #expect(codes == DocumentedCodes.lake, "README only: \(codes.subtracting(DocumentedCodes.lake).sorted()); DocumentedCodes only: \(DocumentedCodes.lake.subtracting(codes).sorted())")
        #expect(DocumentedCodes.header.isSubset(of: DocumentedCodes.lake))
    }

    /// The second readings the invariants rely on do see what they are meant to catch.
    @Test("the independent oracles detect duplicates, depth, order and non-canonical base64")
    func oracles() {
        let duplicate = Array(#"{"alg":"RS256","x":{"a":1,"\u0061":2}}"#.utf8)
        #expect(JSONOracle.structure(duplicate).members == 4)
        #expect(JSONOracle.distinctMembers(duplicate) == 3)
        #expect(JSONOracle.structure(Array(#"[{"a":[[{"b":"[{"}]]}]"#.utf8)).depth == 5)
        let envelope = Array(#"{"b":{"c":1},"a\"":2," a":3}"#.utf8)
        #expect(JSONOracle.structure(envelope).topLevelNames.compactMap(JSONOracle.string) == ["b", "a\"", " a"])
        #expect(Base64Oracle.decode(Array("QR".utf8)) == [0x41], "Foundation reads a non-canonical text; the strict decoder must not")
        #expect(Bytes.contains(Array("Bearer abcabd".utf8), Array("abd".utf8)))
        #expect(!Bytes.contains(Array("Bearer abcab".utf8), Array("abd".utf8)))
    }
}
