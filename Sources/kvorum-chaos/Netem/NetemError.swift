/// Why setting up, running or removing a relay failed, in words fit for the
/// person running the tests (with the failing command and its stderr).
struct NetemError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
