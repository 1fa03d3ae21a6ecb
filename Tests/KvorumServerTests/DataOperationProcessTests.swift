import Foundation
import KvorumTestKit
import Testing

@testable import KvorumClient

/// Binary values, siblings as `300 Multiple Choices`, the value size limit,
/// DELETE with tombstones and the sibling bounds, over HTTP against real
/// nodes (docs/http-api.md). Every cluster here runs with a small value
/// limit and small sibling bounds, so the limits are reached quickly.
@Suite(.serialized)
struct DataOperationProcessTests {
    static let maxValueBytes = 1000
    static let settings = ["--max-value-bytes", "1000", "--sibling-warning", "3", "--sibling-limit", "5"]

    /// One value holding every byte 0…255 comes back byte for byte, with
    /// its content type; a value sent without one is served as
    /// `application/octet-stream`; the JSON form has it as base64 and a
    /// null text.
    @Test(.timeLimit(.minutes(1)))
    func binaryValuesRoundTrip() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let every = (0...255).map { UInt8($0) }
        let writer = cluster.nodes[0].client()
        let reader = cluster.nodes[1].client()
        _ = try await writer.put("bytes", bytes: every, contentType: "application/x-every-byte", w: 2)

        let raw = try await reader.send(.getRaw(key: "bytes", r: 2))
        #expect(raw.status == 200)
        #expect(Array(raw.body) == every)
        #expect(raw.header("Content-Type") == "application/x-every-byte")
        #expect(raw.header("X-Kvorum-Context")?.isEmpty == false)
        #expect(raw.header("X-Kvorum-Siblings") == "1")
        #expect(raw.header("X-Kvorum-Tombstones") == nil)

        let json = try await reader.get("bytes", r: 2)
        #expect(json.bytes == [every] && json.contentTypes == ["application/x-every-byte"])
        let body = try #require(
            try JSONSerialization.jsonObject(with: try await reader.send(.get(key: "bytes", r: 2)).body)
                as? [String: Any])
        #expect((body["values"] as? [Any])?.first is NSNull, "\(body)")
        #expect(body["base64"] as? [String] == [Data(every).base64EncodedString()])

        _ = try await writer.put("untyped", bytes: [0, 1, 2], contentType: nil, w: 2)
        let untyped = try await reader.getRaw("untyped", r: 2)
        #expect(untyped.siblings.map(\.contentType) == ["application/octet-stream"])
        #expect(untyped.siblings.map(\.bytes) == [[0, 1, 2]])

        let cart = await #expect(throws: KvorumClientError.self) {
            try await writer.put("cart-bytes", bytes: [0xFF], contentType: nil, w: 2)
        }
        #expect(cart?.status == 400 && cart?.message.contains("UTF-8") == true, "\(String(describing: cart))")
    }

    /// Two blind writes are two siblings: the raw read answers 300 with a
    /// `multipart/mixed` body of both (each with its content type and
    /// metadata, under a boundary that occurs in neither), and the JSON
    /// form answers 200 with both as base64.
    @Test(.timeLimit(.minutes(1)))
    func siblingsAnswerMultipleChoices() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        // The first value holds the boundary the node would try first.
        let tricky = Array("--kvorum-0\r\n".utf8) + [0, 0xFF, 0x0D, 0x0A]
        _ = try await cluster.nodes[0].client().put("pair", bytes: tricky, contentType: "application/x-one", w: 2)
        _ = try await cluster.nodes[1].client().put("pair", bytes: Array("two".utf8), contentType: "text/plain", w: 2)

        let client = cluster.nodes[2].client()
        let response = try await client.send(.getRaw(key: "pair", r: 2))
        #expect(response.status == 300)
        let contentType = try #require(response.header("Content-Type"))
        #expect(contentType.hasPrefix("multipart/mixed; boundary="), "\(contentType)")
        #expect(!contentType.hasSuffix("=kvorum-0"), "the boundary occurs in a part: \(contentType)")
        #expect(response.header("X-Kvorum-Siblings") == "2")
        let parts = try #require(MultipartParser.parts(of: Array(response.body), contentType: contentType))
        #expect(
            Set(parts.map { [$0.headers["content-type"] ?? ""] + [String(decoding: $0.body, as: UTF8.self)] })
                == [["application/x-one", String(decoding: tricky, as: UTF8.self)], ["text/plain", "two"]])
        #expect(Set(parts.map(\.body)) == [tricky, Array("two".utf8)])

        let json = try await client.get("pair", r: 2)
        #expect(Set(json.bytes) == [tricky, Array("two".utf8)])
        #expect(Set(parts.compactMap { $0.headers["x-kvorum-metadata"] }) == Set(json.metadata))
        #expect(response.header("X-Kvorum-Context") == json.context)
        let plain = try await client.send(.get(key: "pair", r: 2))
        #expect(plain.status == 200)
    }

    /// A body one byte over the limit is refused with 413 naming the limit;
    /// the same connection then answers the next request, and the node
    /// keeps serving.
    @Test(.timeLimit(.minutes(1)))
    func oversizedValueIsRefusedWith413() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let node = cluster.nodes[0]
        let refused = await #expect(throws: KvorumClientError.self) {
            try await node.client().put(
                "big", bytes: Array(repeating: 7, count: Self.maxValueBytes + 1), contentType: nil, w: 2)
        }
        #expect(refused?.status == 413)
        #expect(refused?.message.contains("\(Self.maxValueBytes) bytes") == true, "\(String(describing: refused))")

        let oversized = Array(repeating: UInt8(ascii: "x"), count: 4 * Self.maxValueBytes)
        let pipelined =
            Array("PUT /kv/big HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(oversized.count)\r\n\r\n".utf8)
            + oversized + Array("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        let connection = try RawConnection(port: node.httpPort)
        connection.send(pipelined)
        let answers = String(decoding: connection.receiveUntilClosed().bytes, as: UTF8.self)
        #expect(answers.hasPrefix("HTTP/1.1 413"), "\(answers.prefix(300))")
        #expect(answers.contains("HTTP/1.1 200 OK") && answers.contains("\"status\":\"ok\""), "\(answers)")

        _ = try await node.client().put("big", bytes: Array(repeating: 7, count: Self.maxValueBytes), contentType: nil)
        #expect(
            try await cluster.nodes[1].client().getRaw("big", r: 2).siblings.first?.bytes.count == Self.maxValueBytes)
    }

    /// A delete with a read's context leaves a tombstone: the key reads 404
    /// with a context, and a write with that context is the one value
    /// after it. A write concurrent with the delete (blind, or with the
    /// context from before the delete) survives beside the tombstone.
    /// DELETE without a context deletes what is there, and of an absent
    /// key answers 404 and writes nothing.
    @Test(.timeLimit(.minutes(1)))
    func deleteLeavesATombstoneThatOnlyItsContextCovers() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let one = cluster.nodes[0].client()
        let two = cluster.nodes[1].client()

        _ = try await one.put("gone", value: "v1", w: 2)
        let before = try await two.get("gone", r: 2)
        let deleted = try await one.send(.delete(key: "gone", w: 2, context: before.context))
        #expect(deleted.status == 200)
        let absent = try await two.send(.getRaw(key: "gone", r: 2))
        #expect(absent.status == 404)
        #expect(absent.header("X-Kvorum-Tombstones") == "1")
        let afterDelete = try #require(absent.header("X-Kvorum-Context"))
        #expect(!afterDelete.isEmpty)
        _ = try await one.put("gone", value: "reborn", w: 2, context: afterDelete)
        let reborn = try await two.send(.getRaw(key: "gone", r: 2))
        #expect(reborn.status == 200 && String(decoding: reborn.body, as: UTF8.self) == "reborn")
        #expect(reborn.header("X-Kvorum-Siblings") == "1" && reborn.header("X-Kvorum-Tombstones") == nil)

        _ = try await one.put("raced", value: "v1", w: 2)
        let raced = try await two.get("raced", r: 2)
        _ = try await two.put("raced", value: "blind", w: 2)
        _ = try await one.delete("raced", w: 2, context: raced.context)
        let survivor = try await two.send(.getRaw(key: "raced", r: 2))
        #expect(survivor.status == 200 && String(decoding: survivor.body, as: UTF8.self) == "blind")
        #expect(survivor.header("X-Kvorum-Tombstones") == "1")

        _ = try await one.put("late", value: "v1", w: 2)
        let old = try await two.get("late", r: 2)
        _ = try await one.delete("late", w: 2, context: old.context)
        _ = try await two.put("late", value: "late", w: 2, context: old.context)
        let late = try await one.get("late", r: 2)
        #expect(late.values == ["late"] && late.tombstones == 1)

        _ = try await one.put("implicit", value: "v", w: 2)
        _ = try await two.delete("implicit", w: 2)
        #expect(try await one.get("implicit", r: 2).found == false)
        let missing = await #expect(throws: KvorumClientError.self) { try await one.delete("never-written", w: 2) }
        #expect(missing?.status == 404)
        #expect(try await two.get("never-written", r: 2).tombstones == 0)
    }

    /// Past the warning threshold (3 here) every answer about the key says
    /// so (`Warning: 199`, the metric, a log line); past the limit (5) a
    /// blind write is refused with 409, and a write with the read's context
    /// is accepted and leaves one version.
    @Test(.timeLimit(.minutes(1)))
    func siblingBoundsWarnThenRefuseBlindWrites() async throws {
        let cluster = try await LocalCluster.start(nodes: 3, nodeArguments: Self.settings)
        defer { cluster.shutdown() }
        let node = cluster.nodes[0]
        let client = node.client()
        var answers: [HTTPResponse] = []
        for index in 1...5 {
            answers.append(try await client.send(.put(key: "crowd", value: "v\(index)", w: 3, context: nil)))
        }
        #expect(answers.map { $0.header("X-Kvorum-Siblings") } == ["1", "2", "3", "4", "5"])
        #expect(answers.prefix(3).allSatisfy { $0.header("Warning") == nil })
        #expect(
            answers[3].header("Warning")
                == #"199 kvorum "key crowd has 4 siblings; read it and write back with its context""#)

        let refused = await #expect(throws: KvorumClientError.self) {
            try await client.put("crowd", value: "v6", w: 2)
        }
        #expect(refused?.status == 409)
        #expect(refused?.message.contains("write back") == true, "\(String(describing: refused))")

        let read = try await client.send(.get(key: "crowd", r: 2))
        #expect(read.status == 200 && read.header("X-Kvorum-Siblings") == "5")
        #expect(read.header("Warning")?.contains("has 5 siblings") == true)
        let context = try #require(read.header("X-Kvorum-Context"))
        let resolved = try await client.send(.put(key: "crowd", value: "one", w: 2, context: context))
        #expect(resolved.header("X-Kvorum-Siblings") == "1" && resolved.header("Warning") == nil)

        let metrics = try RawConnection.http(
            port: node.httpPort, Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        ).text
        #expect(metrics.contains("# HELP kvorum_sibling_warnings_total"))
        #expect(metrics.contains("kvorum_sibling_warnings_total 3"), "\(metrics)")
        let log = try String(contentsOf: node.log, encoding: .utf8)
        #expect(log.contains("sibling warning"), "\(cluster.logTail(of: node))")
    }
}
