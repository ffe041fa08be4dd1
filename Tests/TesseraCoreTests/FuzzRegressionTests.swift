import Foundation
import Testing
import TesseraFuzzKit

/// Every input the fuzzer was seeded with (Tests/Fuzz/corpus) and every reproducer it ever
/// saved (Tests/Fuzz/regressions) goes through the same decoders again, without the fuzzer:
/// a crash found once stays fixed.
@Suite("Fuzz corpus and crash reproducers")
struct FuzzRegressionTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ folder: String) throws -> [URL] {
        let directory = fuzzDirectory.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") && $0.pathExtension != "md" }
    }

    @Test("the seed corpus covers every decoder and runs clean")
    func corpus() throws {
        let files = try Self.inputs("corpus")
        var selectors = Set<Int>()
        for file in files {
            let bytes = Array(try Data(contentsOf: file))
            if let first = bytes.first { selectors.insert(Int(first) % FuzzTargets.decoders.count) }
            FuzzTargets.run(bytes)
        }
        #expect(selectors.count == FuzzTargets.decoders.count, "seeds for \(selectors.sorted()) only")
    }

    @Test("every saved crash reproducer runs clean")
    func regressions() throws {
        for file in try Self.inputs("regressions") {
            FuzzTargets.run(Array(try Data(contentsOf: file)))
        }
    }
}
