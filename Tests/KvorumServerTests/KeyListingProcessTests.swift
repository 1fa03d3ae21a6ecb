import Foundation
import KvorumTestKit
import Testing

@testable import KvorumClient

/// Key listing (`GET /kv`, `kvorum keys`) against real nodes.
@Suite(.serialized)
struct KeyListingProcessTests {
    /// While a writer adds keys, a listing in pages of 7 from another node
    /// returns every key written (at w=3) before it started exactly once;
    /// each page is in byte order and no key comes twice.
    @Test(.timeLimit(.minutes(2)))
    func listingAcrossPagesWhileKeysAreWritten() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let writer = cluster.nodes[0].client(timeout: 10)
        let reader = cluster.nodes[1].client(timeout: 10)
        let before = (0..<150).map { "before-\($0)" } + (0..<10).map { "before-\u{E9}-\($0)" }
        for key in before { _ = try await writer.put(key, value: "v", w: 3) }

        let writing = Task {
            var written: [String] = []
            for index in 0..<150 {
                let key = "during-\(index)"
                _ = try await writer.put(key, value: "v", w: 2)
                written.append(key)
            }
            return written
        }
        var listed: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await reader.keys(after: cursor, limit: 7)
            #expect(page.keys.count <= 7)
            let bytes = page.keys.map { Array($0.utf8) }
            #expect(zip(bytes, bytes.dropFirst()).allSatisfy { $0.lexicographicallyPrecedes($1) }, "\(page.keys)")
            if let cursor, let first = page.keys.first {
                #expect(Array(cursor.utf8).lexicographicallyPrecedes(Array(first.utf8)), "\(cursor) then \(first)")
            }
            #expect(page.next == nil || page.next == page.keys.last)
            listed += page.keys
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 1_000
        let written = try await writing.value
        #expect(pages > 20)
        #expect(Set(listed.map { Array($0.utf8) }).count == listed.count, "a key was listed twice")
        for key in before {
            #expect(listed.filter { $0.utf8.elementsEqual(key.utf8) }.count == 1, "\(key)")
        }
        #expect(listed.allSatisfy { key in before.contains(key) || written.contains(key) })
        let all = try await reader.keys(limit: 10_000)
        #expect(all.next == nil)
        #expect(all.keys.count == before.count + written.count)
    }

    /// `kvorum keys --prefix` through the CLI, on 4 nodes so that pages ask
    /// peers over the wire: one key a line in byte order, across pages;
    /// `--json` prints each page's JSON; a bad limit is refused.
    @Test(.timeLimit(.minutes(2)))
    func keysCommandListsAPrefix() async throws {
        let cluster = try await LocalCluster.start(nodes: 4)
        defer { cluster.shutdown() }
        let client = cluster.nodes[0].client(timeout: 10)
        let keys = (0..<40).map { "cart-\($0)" } + ["cart-\u{E9}", "carte", "other-1", "other-2"]
        for key in keys { _ = try await client.put(key, value: "v", w: 3) }
        let node = cluster.nodes[2].httpURL.absoluteString
        let expected = keys.filter { $0.hasPrefix("cart-") }.sorted {
            Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
        }

        let plain = try ChildProcess.run(
            Paths.kvorum, ["keys", "--prefix", "cart-", "--limit", "6", "--node", node], deadline: 30)
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout == expected.map { $0 + "\n" }.joined(), "\(plain.stdout)")

        let json = try ChildProcess.run(
            Paths.kvorum, ["keys", "--prefix", "cart-", "--limit", "20", "--json", "--node", node], deadline: 30)
        #expect(json.status == 0, "\(json.stderr)")
        let pages = try json.stdout.split(separator: "\n").map {
            try JSONDecoder().decode(KeyListingPage.self, from: Data($0.utf8))
        }
        #expect(pages.count == 3)
        #expect(pages.flatMap(\.keys) == expected)
        #expect(pages.last?.next == nil)

        let all = try ChildProcess.run(Paths.kvorum, ["keys", "--node", node], deadline: 30)
        #expect(all.stdout.split(separator: "\n").count == keys.count)

        let refused = try ChildProcess.run(Paths.kvorum, ["keys", "--limit", "0", "--node", node], deadline: 30)
        #expect(refused.status != 0)
        let bad = try RawConnection.http(
            port: cluster.nodes[1].httpPort,
            Array("GET /kv?limit=20000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(bad.status == 400, "\(bad.text)")
    }
}
