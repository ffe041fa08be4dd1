// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "tessera",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tessera", targets: ["tessera"]),
        .library(name: "TesseraCore", targets: ["TesseraCore"]),
        .library(name: "TesseraStorage", targets: ["TesseraStorage"]),
        .library(name: "TesseraServer", targets: ["TesseraServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // PEM armour (PEMDocument) for the key encodings swift-crypto does not read (ML-DSA); swift-crypto depends on it already.
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // The system's OpenSSL libcrypto (Debian libssl-dev), for RSA signing: on CPUs with
        // AVX-512 IFMA it signs RSA-2048 over twice as fast as swift-crypto's BoringSSL.
        .systemLibrary(name: "COpenSSLCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // glibc's malloc.h (part of libc6-dev, which every Swift toolchain on Linux needs), for the
        // server's allocator settings (Sources/tessera/AllocatorTuning.swift).
        .systemLibrary(name: "CGlibcMalloc"),
        // One C call into sqlite-nio's SQLite that Swift cannot make (a variadic function).
        .target(name: "CSQLiteOptions"),
        .target(
            name: "TesseraCore",
            dependencies: [
                "COpenSSLCrypto",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TesseraStorage",
            dependencies: [
                "TesseraCore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                // The SQLite driver (`SQLite/`) calls sqlite-nio's copy of SQLite, its
                // `VaporCSQLite` module, directly: the same library instance as SQLiteKit's.
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                "CSQLiteOptions",
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // ConnectionPoolError: the pool's "cannot connect" (DatabaseOutage).
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                // DatabaseOutage's deadline: a timer on an event loop of NIO's shared group.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TesseraServer",
            dependencies: [
                "TesseraCore",
                "TesseraStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // The OpenAPI document, served at GET /openapi.json.
            resources: [.copy("OpenAPI/openapi.json")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tessera",
            dependencies: [
                .target(name: "CGlibcMalloc", condition: .when(platforms: [.linux])),
                "TesseraCore",
                "TesseraStorage",
                "TesseraServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TesseraBenchmark",
            dependencies: [
                "TesseraCore",
                "TesseraStorage",
                "TesseraServer",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            // RSA signing speed by library, and issuance through the key ring (issue 13, target 4).
            name: "TesseraSignBench",
            dependencies: [
                "TesseraCore",
                "COpenSSLCrypto",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TesseraFuzzKit",
            // Hummingbird only for its cookie reader, which the console uses as is: it is fuzzed
            // too (about 3.5 min more on a cold `scripts/fuzz` build, nothing on an ordinary one).
            dependencies: ["TesseraCore", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraCoreTests",
            // TesseraStorage only to give the core's services real stores (a scratch SQLite file).
            dependencies: ["TesseraCore", "TesseraStorage", "TesseraFuzzKit"],
            resources: [.copy("Vectors")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraStorageTests",
            dependencies: [
                "TesseraCore",
                "TesseraStorage",
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TesseraServerTests",
            dependencies: [
                "TesseraCore",
                "TesseraStorage",
                "TesseraServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// The libFuzzer binary exists only when scripts/fuzz builds it (TESSERA_FUZZ=1, with
// `-sanitize=fuzzer`, which links libFuzzer's driver); an ordinary build could not link it.
if Context.environment["TESSERA_FUZZ"] == "1" {
    package.products.append(.executable(name: "tessera-fuzz", targets: ["TesseraFuzz"]))
    package.targets.append(.executableTarget(name: "TesseraFuzz", dependencies: ["TesseraFuzzKit"], swiftSettings: swiftSettings))
}
