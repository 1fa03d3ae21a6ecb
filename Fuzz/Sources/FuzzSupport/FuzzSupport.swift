/// What every fuzz target shares: the input as bytes, and a check that
/// stops the run (libFuzzer keeps the input) when an invariant fails.
public enum Fuzz {
    /// libFuzzer's input as an array.
    public static func bytes(_ start: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
        guard let start, count > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: count))
    }

    /// Traps with `message` unless `condition` holds: an invariant broken
    /// by this input is a finding, like a crash.
    public static func check(
        _ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line
    ) {
        if !condition { fatalError("invariant broken: \(message())", file: file, line: line) }
    }
}
