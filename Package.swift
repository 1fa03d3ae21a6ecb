// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Kvorum",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "KvorumCore", targets: ["KvorumCore"]),
        .library(name: "KvorumSimulation", targets: ["KvorumSimulation"]),
        .executable(name: "kvorum", targets: ["kvorum"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
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
        .executableTarget(
            name: "kvorum",
            dependencies: [
                "KvorumCore",
                "KvorumSimulation",
                "KvorumStdio",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KvorumCoreTests", dependencies: ["KvorumCore"]),
        .testTarget(name: "KvorumScenarioTests", dependencies: ["KvorumCore", "KvorumSimulation", "KvorumStdio"]),
        .testTarget(name: "KvorumSimulationTests", dependencies: ["KvorumCore", "KvorumSimulation"]),
        .testTarget(name: "KvorumStdioTests", dependencies: ["KvorumCore", "KvorumStdio"]),
    ]
)
