import KvorumTestKit
import Testing

@testable import KvorumCore

/// The parts of a key listing that need no cluster: the query's filter, the
/// merge of the asked nodes' answers into a page with a cursor, and the
/// memory store's range scan.
@Suite("Key listing")
struct KeyListingTests {
    /// Keys that differ only in bytes above 0x7F, and the two spellings of
    /// "café", which Swift's `String` holds equal: byte order sorts them all.
    static let keys: [Key] = [
        "k", "kz", "k\u{7F}", "k\u{80}", "k\u{E9}", "k\u{E9}\u{E9}", "k\u{FF}", "k\u{100}", "k\u{FF5A}", "k\u{1F600}",
        "caf\u{E9}-1", "cafe\u{301}-1", "caf\u{E9}", "cafe",
    ]

    /// The prefix is matched on bytes and the cursor is exclusive.
    @Test func queryAdmitsByBytes() {
        let query = KeyQuery(prefix: "caf\u{E9}", after: nil)
        #expect(query.admits("caf\u{E9}-1"))
        #expect(query.admits("caf\u{E9}"))
        #expect(!query.admits("cafe\u{301}-1"))
        let cursor = KeyQuery(prefix: "k", after: "k\u{E9}")
        #expect(!cursor.admits("k\u{E9}"))
        #expect(cursor.admits("k\u{E9}\u{E9}"))
        #expect(!cursor.admits("kz"))
        #expect(KeyQuery.limitRefusal(0) != nil)
        #expect(KeyQuery.limitRefusal(10_001) != nil)
        #expect(KeyQuery.limitRefusal(1) == nil && KeyQuery.limitRefusal(10_000) == nil)
    }

    /// Answers that stopped short of the limit are complete: the page is
    /// every key, de-duplicated and in byte order, with no cursor.
    @Test func shortAnswersMakeTheLastPage() {
        var merge = KeyPageMerge(limit: 10)
        merge.add(["b", "k\u{E9}"], full: false)
        merge.add(["a", "k\u{E9}", "kz"], full: false)
        merge.add([], full: false)
        #expect(merge.page == KeyPage(keys: ["a", "b", "kz", "k\u{E9}"], next: nil))
    }

    /// More keys than the limit: the first `limit`, and the last as cursor.
    @Test func aPageHoldsTheFirstKeysAndItsLastIsTheCursor() {
        var merge = KeyPageMerge(limit: 3)
        merge.add(["a", "c"], full: false)
        merge.add(["b", "d"], full: false)
        #expect(merge.page == KeyPage(keys: ["a", "b", "c"], next: "c"))
    }

    /// A full answer may have left keys out after its last one, so keys of
    /// other answers beyond it wait for the next page: otherwise the cursor
    /// would skip the full answer's later keys.
    @Test func aFullAnswerBoundsThePage() {
        var merge = KeyPageMerge(limit: 3)
        merge.add(["a", "b", "e"], full: true)
        merge.add(["c", "f", "g"], full: true)
        merge.add(["d"], full: false)
        #expect(merge.page == KeyPage(keys: ["a", "b", "c"], next: "c"))

        var exact = KeyPageMerge(limit: 2)
        exact.add(["x", "y"], full: true)
        exact.add(["z"], full: false)
        #expect(exact.page == KeyPage(keys: ["x", "y"], next: "y"))
    }

    /// Paging with the cursor over answers from nodes with disjoint keys
    /// returns every key exactly once, in byte order, whatever the limit.
    @Test(arguments: [1, 2, 3, 5, 20])
    func pagingWithTheCursorReturnsEveryKeyOnce(limit: Int) {
        let nodes: [[Key]] = [
            Self.keys.enumerated().filter { $0.offset % 3 == 0 }.map(\.element).sorted(),
            Self.keys.enumerated().filter { $0.offset % 3 == 1 }.map(\.element).sorted(),
            Self.keys.enumerated().filter { $0.offset % 3 == 2 }.map(\.element).sorted(),
        ]
        var listed: [Key] = []
        var cursor: Key?
        var pages = 0
        repeat {
            var merge = KeyPageMerge(limit: limit)
            for keys in nodes {
                let answer = Array(keys.filter { key in cursor.map { $0 < key } ?? true }.prefix(limit))
                merge.add(answer, full: answer.count == limit)
            }
            let page = merge.page
            #expect(page.keys.count <= limit)
            listed += page.keys
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 100
        #expect(listed.map { Array($0.utf8) } == Self.keys.sorted().map { Array($0.utf8) })
    }

    /// The memory store scans from the prefix or after the cursor, in byte
    /// order, passes only the keys `include` lets through, and stops when
    /// told to.
    @Test func memoryStorageScansARange() {
        let storage = MemoryStorage()
        for key in Self.keys { storage.setRecord(StoredRecord(siblings: SiblingSet([dotted("a", 1)])), for: key) }
        func scan(
            _ prefix: Key, after: Key? = nil, stopAfter: Int = .max, include: (Key) -> Bool = { _ in true }
        ) -> [[UInt8]] {
            var seen: [Key] = []
            storage.scanRecords(prefix: prefix, after: after, where: include) { key, record in
                #expect(record.siblings.values == ["a@1"])
                seen.append(key)
                return seen.count < stopAfter
            }
            return seen.map { Array($0.utf8) }
        }
        let sorted = Self.keys.sorted()
        #expect(scan("") == sorted.map { Array($0.utf8) })
        #expect(
            scan("k", after: "k\u{E9}")
                == sorted.filter { $0 > "k\u{E9}" && $0.text.hasPrefix("k") }.map { Array($0.utf8) })
        #expect(scan("caf\u{E9}") == [Array("caf\u{E9}".utf8), Array("caf\u{E9}-1".utf8)])
        #expect(scan("k", stopAfter: 2) == [Array("k".utf8), Array("kz".utf8)])
        #expect(scan("k", after: "k\u{1F600}").isEmpty)
        #expect(
            scan("k", include: { $0.utf8.count == 3 }) == [
                Array("k\u{80}".utf8), Array("k\u{E9}".utf8), Array("k\u{FF}".utf8), Array("k\u{100}".utf8),
            ])
    }

    /// A listing takes one answer per asked node and round: an answer of an
    /// earlier round (late, or delivered twice) or from a node not asked is
    /// ignored.
    @Test func onlyAnswersOfTheCurrentRoundCount() {
        var op = ListOperation(client: 1, query: KeyQuery(limit: 5), deadline: 10)
        op.round = 2
        op.pending = ["n2": [0, 1]]
        let late = op.record(["a"], full: false, from: "n2", round: 1)
        let stranger = op.record(["a"], full: false, from: "n3", round: 2)
        let answer = op.record(["b"], full: false, from: "n2", round: 2)
        let twice = op.record(["c"], full: false, from: "n2", round: 2)
        #expect(!late && !stranger && answer && !twice)
        #expect(op.pending.isEmpty)
        #expect(op.merge.page == KeyPage(keys: ["b"], next: nil))
    }
}
