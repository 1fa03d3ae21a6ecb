// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Kvorum",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KvorumCore", targets: ["KvorumCore"]),
        .library(name: "KvorumSimulation", targets: ["KvorumSimulation"]),
        .library(name: "KvorumClient", targets: ["KvorumClient"]),
        // For the fuzzers (Fuzz/Package.swift), which build these pure
        // modules alone, without NIO or the crypto packages.
        .library(name: "KvorumStdio", targets: ["KvorumStdio"]),
        .library(name: "KvorumContextToken", targets: ["KvorumContextToken"]),
        .library(name: "KvorumRouting", targets: ["KvorumRouting"]),
        .library(name: "KvorumBinaryProtocol", targets: ["KvorumBinaryProtocol"]),
        .executable(name: "kvorum", targets: ["kvorum"]),
        .executable(name: "kvorum-chaos", targets: ["kvorum-chaos"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .target(name: "KvorumCore"),
        .target(
            name: "KvorumSimulation",
            dependencies: [
                "KvorumCore",
                .product(name: "HeapModule", package: "swift-collections"),
            ]
        ),
        .target(name: "KvorumStdio", dependencies: ["KvorumCore"]),
        .systemLibrary(name: "CSQLite"),
        .target(
            name: "KvorumServer",
            dependencies: [
                "KvorumCore",
                "KvorumContextToken",
                "KvorumRouting",
                "KvorumBinaryProtocol",
                "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                "KvorumCerts",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "KvorumClient",
            dependencies: [
                "KvorumBinaryProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
            ]
        ),
        .target(name: "KvorumContextToken"),
        // The HTTP API's request targets read into named routes, with the role
        // each needs. Depends on nothing, so a fuzzer build of it stays small.
        .target(name: "KvorumRouting"),
        // The binary client protocol's frames (docs/binary-protocol.md), shared
        // by the node, the client, the benchmark and a fuzzer; depends on nothing.
        .target(name: "KvorumBinaryProtocol"),
        // Certificates for the cluster, made without openssl: the CLI and
        // kvorum-chaos make them, the server reads them (the core does not).
        .target(
            name: "KvorumCerts",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .target(
            name: "KvorumBench",
            dependencies: [
                "KvorumCore",
                "KvorumBinaryProtocol",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .executableTarget(
            name: "kvorum",
            dependencies: [
                "KvorumCore",
                "KvorumSimulation",
                "KvorumStdio",
                "KvorumServer",
                "KvorumClient",
                "KvorumBench",
                "KvorumCerts",
                "KvorumRouting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // Swift 6.3.1's optimizer crashes (signal 11, in LLVM's coroutine
            // passes) on this target's async CLI code in release builds. The
            // executable is only glue; every library it runs stays optimized.
            swiftSettings: [.unsafeFlags(["-Onone"], .when(configuration: .release))]
        ),
        .target(name: "KvorumChaos", dependencies: ["KvorumCore"]),
        .executableTarget(
            name: "kvorum-chaos",
            dependencies: [
                "KvorumChaos",
                "KvorumContextToken",
                "KvorumCore",
                "KvorumBench",
                "KvorumCerts",
                "KvorumServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KvorumCoreTests", dependencies: ["KvorumCore", "KvorumTestKit"]),
        .testTarget(
            name: "KvorumScenarioTests",
            dependencies: ["KvorumCore", "KvorumSimulation", "KvorumStdio", "KvorumTestKit"]),
        .testTarget(name: "KvorumSimulationTests", dependencies: ["KvorumCore", "KvorumSimulation"]),
        .testTarget(name: "KvorumChaosTests", dependencies: ["KvorumChaos", "KvorumCore"]),
        .target(name: "KvorumTestKit", dependencies: ["KvorumCore"], path: "Tests/KvorumTestKit"),
        .testTarget(name: "KvorumStdioTests", dependencies: ["KvorumCore", "KvorumStdio", "KvorumTestKit"]),
        .testTarget(
            name: "KvorumServerTests",
            dependencies: [
                "KvorumCore", "KvorumServer", "KvorumClient", "KvorumContextToken", "KvorumBench", "KvorumTestKit",
                "KvorumRouting", "KvorumCerts", "KvorumBinaryProtocol", "kvorum",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        .testTarget(name: "KvorumRoutingTests", dependencies: ["KvorumRouting", "KvorumCore"]),
        .testTarget(name: "KvorumBinaryProtocolTests", dependencies: ["KvorumBinaryProtocol", "KvorumTestKit"]),
        .testTarget(
            name: "KvorumCertsTests",
            dependencies: [
                "KvorumCerts",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]),
        .testTarget(
            name: "KvorumHostTests",
            dependencies: ["kvorum-chaos", "KvorumBench", "KvorumChaos", "KvorumCore", "KvorumTestKit"]),
    ]
)
