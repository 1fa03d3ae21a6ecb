// swift-tools-version:5.4
// 5.4, not newer: from 5.5 on, SwiftPM links executables with
// `--defsym main=<module>_main`, a symbol `-parse-as-library` never emits,
// so libFuzzer's own `main` could not be the entry point.
import PackageDescription

/// libFuzzer targets for Kvorum's parsers, kept out of the main build: they
/// need `-sanitize=fuzzer`, and they build only the pure modules they fuzz.
/// Build and run them with `scripts/fuzz.sh` (docs/fuzzing.md).
let package = Package(
    name: "KvorumFuzz",
    dependencies: [.package(name: "Kvorum", path: "..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "fuzz-peer-frames",
            dependencies: ["FuzzSupport", .product(name: "KvorumCore", package: "Kvorum")]),
        .executableTarget(
            name: "fuzz-peer-node",
            dependencies: ["FuzzSupport", .product(name: "KvorumCore", package: "Kvorum")]),
        .executableTarget(
            name: "fuzz-stored-siblings",
            dependencies: ["FuzzSupport", .product(name: "KvorumCore", package: "Kvorum")]),
        .executableTarget(
            name: "fuzz-stdio",
            dependencies: [
                "FuzzSupport",
                .product(name: "KvorumCore", package: "Kvorum"),
                .product(name: "KvorumStdio", package: "Kvorum"),
            ]),
        .executableTarget(
            name: "fuzz-http-request",
            dependencies: [
                "FuzzSupport",
                .product(name: "KvorumCore", package: "Kvorum"),
                .product(name: "KvorumContextToken", package: "Kvorum"),
                .product(name: "KvorumRouting", package: "Kvorum"),
            ]),
        .executableTarget(
            name: "fuzz-binary-frames",
            dependencies: ["FuzzSupport", .product(name: "KvorumBinaryProtocol", package: "Kvorum")]),
    ]
)
