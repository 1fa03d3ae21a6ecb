/// The progress of an open that goes through every record (converting the
/// store, or summing its digests after an unclean stop): the total first,
/// then every `interval` records, then the end.
struct RecordProgress {
    /// Records between two reports.
    static let interval = 100_000

    private let report: (_ done: Int, _ total: Int) -> Void
    private let total: Int
    private var done = 0

    /// Counts the records and reports that none is done yet.
    init(_ connection: SQLiteConnection, report: @escaping (_ done: Int, _ total: Int) -> Void) throws {
        self.report = report
        total = try connection.execute("SELECT count(*) FROM records").first.flatMap { Int($0) } ?? 0
        report(0, total)
    }

    /// One more record done.
    mutating func step() {
        done += 1
        if done % Self.interval == 0 { report(done, total) }
    }

    /// Reports the end.
    func finish() { report(done, total) }
}
