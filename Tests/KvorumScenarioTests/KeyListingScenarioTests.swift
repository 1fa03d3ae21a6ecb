import KvorumCore
import KvorumSimulation
import Testing

/// Key listing in a simulated cluster (issue 12, part 3): a coverage query
/// that asks one up replica of every partition and pages with a cursor.
@Suite("Key listing")
struct KeyListingScenarioTests {
    /// 200 keys, some of them differing only in bytes above 0x7F.
    static func keys() -> [String] {
        var generator = KeyGenerator(seed: 12)
        return generator.keys(190) + (0..<10).map { "k\u{E9}-\($0)" } + ["caf\u{E9}", "cafe\u{301}"]
    }

    /// A formed cluster of `nodes` with `keys` written at quorum 3 from
    /// rotating coordinators.
    static func cluster(nodes: Int = 5, keys: [String]) -> Cluster {
        let c = Cluster(nodes: nodes, timing: .harness)
        c.form()
        for (index, key) in keys.enumerated() {
            c.put(key, "v-\(index)", at: c.names[index % nodes], quorum: 3)
        }
        c.sim.run(for: 1)
        return c
    }

    /// One LIST_KEYS request; its typed reply.
    static func list(
        _ c: Cluster, at node: String, prefix: String? = nil, after: String? = nil, limit: Int? = nil,
        timeLimit: Double = 2, sourceLocation: SourceLocation = #_sourceLocation
    ) -> ClientReply? {
        var body: [String: JSON] = [:]
        if let prefix { body["prefix"] = .string(prefix) }
        if let after { body["after"] = .string(after) }
        if let limit { body["limit"] = .int(Int64(limit)) }
        guard
            let response = c.request(
                "LIST_KEYS", .object(body), at: node, timeLimit: timeLimit, sourceLocation: sourceLocation)
        else { return nil }
        return try? ClientReply(seed: response)
    }

    /// Pages through the listing with the cursor; nil if a page failed.
    static func listAll(
        _ c: Cluster, at node: String, prefix: String? = nil, limit: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> (keys: [[UInt8]], pages: [KeyPage])? {
        var pages: [KeyPage] = []
        var cursor: String?
        repeat {
            guard
                case .keyPage(let page)? = list(
                    c, at: node, prefix: prefix, after: cursor, limit: limit, sourceLocation: sourceLocation)
            else {
                c.fail("a page after \(cursor ?? "the start") failed", sourceLocation: sourceLocation)
                return nil
            }
            pages.append(page)
            cursor = page.next?.text
        } while cursor != nil && pages.count < 1_000
        return (pages.flatMap(\.keys).map { Array($0.utf8) }, pages)
    }

    static func bytes(_ keys: [String]) -> [[UInt8]] {
        keys.map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) }
    }

    /// Every key once, in byte order, over pages of at most the limit; each
    /// page costs one message to each other node and one answer back.
    @Test func pagesListEveryKeyOnceInByteOrder() throws {
        let keys = Self.keys()
        let c = Self.cluster(keys: keys)
        c.sim.resetCounters()
        let listing = try #require(Self.listAll(c, at: "node02", limit: 17))
        #expect(listing.keys == Self.bytes(keys))
        #expect(listing.pages.allSatisfy { $0.keys.count <= 17 })
        #expect(listing.pages.dropLast().allSatisfy { $0.keys.count == 17 && $0.next == $0.keys.last })
        #expect(listing.pages.last?.next == nil)
        let pages = listing.pages.count
        #expect(pages == (keys.count + 16) / 17 || pages == (keys.count + 16) / 17 + 1)
        #expect(c.sim.messagesSentByKind["listKeys"] == 4 * pages)
        #expect(c.sim.messagesSentByKind["listKeysReply"] == 4 * pages)
        let whole = try #require(Self.listAll(c, at: "node05", limit: 10_000))
        #expect(whole.keys == Self.bytes(keys) && whole.pages.count == 1)
    }

    /// A key deleted with the context of a read is not listed; its tombstone
    /// is still stored.
    @Test func deletedKeysAreSkipped() throws {
        let keys = Self.keys()
        let c = Self.cluster(keys: keys)
        let deleted = [keys[3], keys[100], "caf\u{E9}"]
        for key in deleted {
            let read = try #require(c.request("GET", ["key": .string(key), "quorum": 3], at: "node01"))
            guard case .versions(let result) = try ClientReply(seed: read) else {
                Issue.record("GET \(key) answered \(read.type)")
                continue
            }
            let delete = try #require(
                c.request(
                    "DELETE",
                    ["key": .string(key), "quorum": 3, "metadata": .string(Metadata.encode(result.context))],
                    at: "node03"))
            #expect(delete.type == "PUT_RESP")
        }
        c.sim.run(for: 1)
        #expect(c.sim.storage(of: c.replicas(of: keys[3])[0]).record(for: Key(keys[3])) != nil)
        let listing = try #require(Self.listAll(c, at: "node04", limit: 50))
        // Compared as `Key`s: "caf\u{E9}" and "cafe\u{301}" are equal `String`s.
        #expect(listing.keys == Self.bytes(keys.filter { key in !deleted.contains { Key($0) == Key(key) } }))
    }

    /// A crashed node is suspected when it does not answer, its partitions
    /// are asked of their next replicas, and the page is complete.
    @Test func aCrashedNodeIsAskedAroundAndThePageIsComplete() throws {
        let keys = Self.keys()
        let c = Self.cluster(keys: keys)
        c.sim.crash("node03")
        let first = try #require(Self.list(c, at: "node01", limit: 1_000))
        guard case .keyPage(let page) = first else {
            Issue.record("listing answered \(first)")
            return
        }
        #expect(page.keys.map { Array($0.utf8) } == Self.bytes(keys))
        #expect(page.next == nil)
        #expect((c.sim.node("node01") as? KvorumNode)?.suspectedPeers == ["node03"])
        let listing = try #require(Self.listAll(c, at: "node05", limit: 30))
        #expect(listing.keys == Self.bytes(keys))
    }

    /// With every replica of some partition down, the listing fails (503)
    /// rather than answer a page with keys missing.
    @Test func aPartitionWithNoReplicaLeftFailsTheListing() throws {
        let c = Self.cluster(keys: Self.keys())
        for node in ["node02", "node03", "node04"] { c.sim.crash(node) }
        let reply = try #require(Self.list(c, at: "node01", limit: 100, timeLimit: 5))
        guard case .failed(let reason, let failure) = reply else {
            Issue.record("listing with three of five nodes down answered \(reply)")
            return
        }
        #expect(failure == .unavailable)
        #expect(reason.contains("no replica of partition"))
    }

    /// The prefix is matched on bytes: "caf\u{E9}" (composed) does not match
    /// "cafe\u{301}" (decomposed), which Swift's `String` holds equal.
    @Test func thePrefixFilters() throws {
        let keys = Self.keys()
        let c = Self.cluster(keys: keys)
        let listing = try #require(Self.listAll(c, at: "node01", prefix: "k\u{E9}-", limit: 3))
        #expect(listing.keys == Self.bytes((0..<10).map { "k\u{E9}-\($0)" }))
        #expect(listing.pages.count == 4)
        let composed = try #require(Self.listAll(c, at: "node01", prefix: "caf\u{E9}", limit: 3))
        #expect(composed.keys == [Array("caf\u{E9}".utf8)])
        let none = try #require(Self.listAll(c, at: "node01", prefix: "nothing-", limit: 3))
        #expect(none.keys.isEmpty && none.pages.count == 1)
    }

    /// `after` is exclusive: from a key in the middle, the keys after it;
    /// from the last key, an empty last page. A limit out of range is refused.
    @Test func theCursorIsExclusive() throws {
        let keys = Self.keys()
        let c = Self.cluster(keys: keys)
        let sorted = keys.map { Key($0) }.sorted()
        let middle = sorted[99]
        guard case .keyPage(let page)? = Self.list(c, at: "node03", after: middle.text, limit: 5) else {
            Issue.record("no page after \(middle)")
            return
        }
        #expect(page.keys == Array(sorted[100..<105]))
        #expect(page.next == sorted[104])
        guard case .keyPage(let last)? = Self.list(c, at: "node03", after: sorted.last!.text, limit: 5) else {
            Issue.record("no page after the last key")
            return
        }
        #expect(last == KeyPage(keys: [], next: nil))
        guard case .failed(_, let failure)? = Self.list(c, at: "node03", limit: 0) else {
            Issue.record("limit 0 was not refused")
            return
        }
        #expect(failure == .badRequest)
    }

    /// On a network that delays some answers past the request timeout and
    /// delivers messages twice, asked nodes are suspected and their
    /// partitions asked again in a later round while their first answers
    /// and copies still arrive. Paging (a client retrying a page that
    /// failed) still lists every key exactly once, in byte order.
    @Test(arguments: 1...6 as ClosedRange<UInt64>)
    func lateAndDuplicatedAnswersAreNotCountedTwice(seed: UInt64) throws {
        let keys = Self.keys()
        let c = Cluster(nodes: 5, timing: .random(seed: seed))
        c.form()
        for (index, key) in keys.enumerated() {
            c.put(key, "v-\(index)", at: c.names[index % 5], quorum: 3)
        }
        c.sim.run(for: 1)
        c.sim.network = NetworkConfig(
            delay: .uniform(0.01, 0.1), duplicateRate: 0.5, reorderRate: 0.2, reorderExtraDelay: 0.6)
        var listed: [Key] = []
        var cursor: String?
        var pages = 0
        var failures = 0
        repeat {
            switch Self.list(c, at: c.names[pages % 5], after: cursor, limit: 23, timeLimit: 12) {
            case .keyPage(let page)?:
                listed += page.keys
                cursor = page.next?.text
                pages += 1
            default:
                failures += 1
            }
        } while cursor != nil && pages < 100 && failures < 20
        #expect(listed.map { Array($0.utf8) } == Self.bytes(keys), "\(failures) pages failed and were retried")
        #expect(c.sim.traceText.contains("round:2"), "no listing asked a second round")
    }
}
