import Foundation

/// The fuzzers' seed corpus (`Fuzz/corpus/<target>/`, docs/fuzzing.md):
/// inputs made by the encoders, so that libFuzzer starts from valid frames,
/// records and lines instead of discovering the formats byte by byte.
///
/// Tests hand their seeds to `mismatches`, which compares them with the
/// files. With `KVORUM_WRITE_FUZZ_SEEDS=1` it writes them instead, which is
/// how the corpus is made again after a format change.
public enum FuzzSeedCorpus {
    /// The directory of a target's seeds in this checkout (this file is
    /// `Tests/KvorumTestKit/FuzzSeedCorpus.swift`).
    private static func directory(_ target: String) -> URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fuzz/corpus/\(target)")
    }

    /// The seed names whose file is missing or differs from the bytes given;
    /// empty when the corpus is current (or has just been written).
    public static func mismatches(target: String, seeds: [(name: String, bytes: [UInt8])]) throws -> [String] {
        let folder = directory(target)
        if ProcessInfo.processInfo.environment["KVORUM_WRITE_FUZZ_SEEDS"] == "1" {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for seed in seeds {
                try Data(seed.bytes).write(to: folder.appendingPathComponent("seed-\(seed.name)"))
            }
            return []
        }
        return seeds.compactMap { seed in
            let stored = try? Data(contentsOf: folder.appendingPathComponent("seed-\(seed.name)"))
            return stored.map(Array.init) == seed.bytes ? nil : seed.name
        }
    }
}
