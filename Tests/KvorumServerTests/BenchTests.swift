import Foundation
import KvorumCore
import Testing

@testable import KvorumBench

/// The pure parts of `kvorum bench`: key choice, workload mixes, the RESP and
/// HTTP codecs, and the latency summary.
struct BenchTests {
    /// Zipfian ranks stay in range, rank 0 is the most popular, and the skew
    /// matches theta 0.99 (rank 0 draws about 1/zeta(n), the top tenth most).
    @Test func zipfianBoundsAndSkew() {
        let zipfian = ZipfianGenerator(count: 1000)
        var random = SplitMix64(seed: 7)
        var counts = [Int](repeating: 0, count: 1000)
        let draws = 200_000
        for _ in 0..<draws {
            let rank = zipfian.next(using: &random)
            #expect((0..<1000).contains(rank))
            counts[rank] += 1
        }
        #expect(counts[0] == counts.max())
        let zeta = (1...1000).reduce(0.0) { $0 + 1 / pow(Double($1), 0.99) }
        let share0 = Double(counts[0]) / Double(draws)
        #expect(abs(share0 - 1 / zeta) < 0.01)
        let topTenth = Double(counts[..<100].reduce(0, +)) / Double(draws)
        #expect(topTenth > 0.6 && topTenth < 0.8)
    }

    /// Both distributions choose records in range, and the same seed
    /// chooses the same records.
    @Test(arguments: KeyDistribution.allCases) func keyChoiceIsBoundedAndSeeded(distribution: KeyDistribution) {
        let chooser = KeyChooser(records: 5000, distribution: distribution)
        var first = SplitMix64(seed: 42)
        var second = SplitMix64(seed: 42)
        let a = (0..<10_000).map { _ in chooser.next(using: &first) }
        let b = (0..<10_000).map { _ in chooser.next(using: &second) }
        #expect(a == b)
        #expect(a.allSatisfy { (0..<5000).contains($0) })
        // The scrambled zipfian still has one hot record (rank 0: about 1/zeta(5000) = 11% of draws).
        if distribution == .zipfian {
            let counts = Dictionary(a.map { ($0, 1) }, uniquingKeysWith: +)
            #expect(counts.values.max()! > 10_000 / 20)
        }
    }

    /// Keys are named as YCSB names them.
    @Test func keyNames() {
        #expect(KeyChooser.key(0) == "user0000000000")
        #expect(KeyChooser.key(99_999) == "user0000099999")
    }

    /// Each workload's operations come in their YCSB proportions.
    @Test(arguments: Workload.allCases) func workloadMix(workload: Workload) {
        var random = SplitMix64(seed: 3)
        let draws = 100_000
        var counts: [BenchOperation: Int] = [:]
        for _ in 0..<draws { counts[workload.operation(for: random.nextUnit()), default: 0] += 1 }
        #expect(Set(counts.keys) == Set(workload.mix.map(\.operation)))
        for (operation, share) in workload.mix {
            #expect(abs(Double(counts[operation] ?? 0) / Double(draws) - share) < 0.01)
        }
    }

    /// Commands go out as arrays of bulk strings.
    @Test func respEncoding() {
        let bytes = RESP.command([Array("SET".utf8), Array("k".utf8), Array("v1".utf8)])
        #expect(String(decoding: bytes, as: UTF8.self) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\nv1\r\n")
    }

    /// Every RESP2 reply type decodes, one after another from one stream.
    @Test func respDecoding() throws {
        let wire = "+OK\r\n-ERR wrong\r\n:1\r\n$5\r\nhe\r\no\r\n$-1\r\n*2\r\n$1\r\na\r\n:7\r\n*-1\r\n$0\r\n\r\n"
        let reader = MemoryReader(Array(wire.utf8))
        #expect(try RESP.read(from: reader) == .simple("OK"))
        #expect(try RESP.read(from: reader) == .error("ERR wrong"))
        #expect(try RESP.read(from: reader) == .integer(1))
        #expect(try RESP.read(from: reader) == .bulk(Array("he\r\no".utf8)))
        #expect(try RESP.read(from: reader) == .bulk(nil))
        #expect(try RESP.read(from: reader) == .array([.bulk(Array("a".utf8)), .integer(7)]))
        #expect(try RESP.read(from: reader) == .array(nil))
        #expect(try RESP.read(from: reader) == .bulk([]))
        #expect(throws: BenchError.self) { try RESP.read(from: reader) }
    }

    /// Responses with a length and chunked ones read the same; the reader
    /// stops at the end of each.
    @Test func httpResponses() throws {
        let wire =
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Kvorum-Context: a.1:1|\r\n\r\nhello"
            + "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n"
        let reader = MemoryReader(Array(wire.utf8))
        let first = try HTTP1.readResponse(from: reader)
        #expect(first.status == 200 && first.body == Array("hello".utf8))
        #expect(first.header("x-kvorum-context") == "a.1:1|")
        let second = try HTTP1.readResponse(from: reader)
        #expect(second.status == 404 && second.body == Array("hello".utf8))
    }

    /// The metadata of a PUT answer is found without a JSON parser.
    @Test func putMetadata() {
        #expect(
            KvorumDriver.metadata(in: Array(#"{"key":"k","metadata":"n1.2:3|n1.2:1#4"}"#.utf8)) == "n1.2:3|n1.2:1#4")
        #expect(KvorumDriver.metadata(in: Array(#"{"error":"x"}"#.utf8)) == nil)
    }

    /// Percentiles come out of the histogram in milliseconds, to three
    /// significant digits.
    @Test func latencySummary() {
        var histogram = LatencySummary.histogram()
        for ms in 1...1000 { histogram.record(UInt64(ms) * 1_000_000) }
        let summary = LatencySummary(nanoseconds: histogram)
        #expect(summary.count == 1000)
        #expect(abs(summary.p50 - 500) <= 0.5)
        #expect(abs(summary.p99 - 990) <= 1)
        #expect(abs(summary.p999 - 999) <= 1)
        #expect(abs(summary.max - 1000) <= 1)
        #expect(abs(summary.mean - 500.5) <= 0.5)
    }

    /// A load of 1,000 records whose pace halves after the first half: the
    /// first tenth runs at 1,000 records/s, the last at 500; every record
    /// counts once, so the tenths are known only when all 1,000 are done.
    @Test func loadTenthsFollowThePace() throws {
        var tenths = LoadTenths(records: 1000, start: 5_000_000_000)
        var time: UInt64 = 5_000_000_000
        for done in 1...1000 {
            time += done <= 500 ? 1_000_000 : 2_000_000
            tenths.finished(done, at: time)
            if done == 999 { #expect(tenths.throughputs == nil) }
        }
        let throughputs = try #require(tenths.throughputs)
        #expect(throughputs.count == 10)
        for (k, value) in throughputs.enumerated() { #expect(abs(value - (k < 5 ? 1000 : 500)) < 1e-6) }
    }

    /// With fewer than ten records some tenths would be empty: no figures.
    @Test func loadTenthsNeedTenRecords() {
        var tenths = LoadTenths(records: 5, start: 0)
        for done in 1...5 { tenths.finished(done, at: UInt64(done) * 1_000_000) }
        #expect(tenths.throughputs == nil)
    }

    /// The text report names the first and last tenth's pace, and the
    /// load's errors by kind.
    @Test func reportShowsTheLoadTenths() throws {
        let json = """
            {"target":"kvorum","workload":"W","distribution":"uniform","records":100,"valueSize":100,
             "concurrency":16,"seed":1,"loadSeconds":2,"loadErrors":3,"loadErrorKinds":{"timeout":3},
             "loadTenths":[80,60,55,50,50,50,50,50,45,40],
             "warmupSeconds":1,"seconds":6,"operations":600,"throughput":100,"latency":{},"errors":{}}
            """
        let report = try JSONDecoder().decode(BenchReport.self, from: Data(json.utf8))
        #expect(
            report.text.contains(
                "load: 100 records in 2.0 s (50 ops/s; first tenth 80, last tenth 40 ops/s), 3 errors"))
        #expect(report.text.contains("  load error timeout: 3"))
    }
}

/// A `ByteReader` over bytes in memory.
final class MemoryReader: ByteReader {
    private var bytes: [UInt8]
    private var position = 0

    /// A reader of `bytes`.
    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func readLine() throws -> [UInt8] {
        var i = position
        while i + 1 < bytes.count {
            if bytes[i] == 13, bytes[i + 1] == 10 {
                let line = Array(bytes[position..<i])
                position = i + 2
                return line
            }
            i += 1
        }
        throw BenchError.io("end of input")
    }

    func read(count: Int) throws -> [UInt8] {
        guard bytes.count - position >= count else { throw BenchError.io("end of input") }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }
}
