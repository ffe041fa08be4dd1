#if canImport(Glibc)
import Glibc
#endif
import TesseraFuzzKit

// Built only by scripts/fuzz, with `-sanitize=fuzzer`, which links libFuzzer. Whichever entry
// point the link keeps — libFuzzer's own `main` calling `LLVMFuzzerTestOneInput`, or this file's
// top-level code starting libFuzzer's driver — every input goes to `FuzzTargets.run`.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    FuzzTargets.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

var argumentCount = CommandLine.argc
var arguments = CommandLine.unsafeArgv
exit(runFuzzerDriver(&argumentCount, &arguments, fuzzOneInput))
