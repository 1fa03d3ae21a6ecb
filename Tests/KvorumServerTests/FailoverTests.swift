import Foundation
import Testing

@testable import KvorumClient

/// The client's failover between nodes (`Failover`), without a server:
/// which failures send a request to the next node, for reads and for
/// writes, and the error that names every node asked. Two tests use real
/// sockets on loopback (a closed port, a listener that never answers).
struct FailoverTests {
    static let nodes = (1...3).map { URL(string: "http://127.0.0.1:870\($0)")! }

    static func failure(_ kind: Failover.Failure.Kind, _ reason: String, status: Int? = nil) -> Failover.Outcome {
        .failed(.init(kind: kind, reason: reason, error: KvorumClientError(status: status, message: reason)))
    }

    static let refused = failure(.undelivered, "connection refused")
    static let silent = failure(.unanswered, "no answer within 10 s")
    static let busy = failure(.declined, "HTTP 503: retry shortly", status: 503)
    static let noQuorum = failure(.unavailable, "HTTP 503: quorum not reached", status: 503)
    static let served = Failover.Outcome.served(HTTPResponse(status: 200, body: Data("{}".utf8)))

    /// Runs a failover over `nodes` where node K does `outcomes[K]`.
    ///
    /// - Returns: the nodes asked, in order, and the answer or the error.
    static func run(_ repetition: Repetition, _ outcomes: [Failover.Outcome], nodes: [URL] = nodes) async -> (
        asked: [URL], result: Result<HTTPResponse, KvorumClientError>
    ) {
        var asked: [URL] = []
        let failover = Failover(nodes: nodes, repetition: repetition)
        do throws(KvorumClientError) {
            let answer = try await failover.run { node in
                asked.append(node)
                return outcomes[asked.count - 1]
            }
            return (asked, .success(answer))
        } catch {
            return (asked, .failure(error))
        }
    }

    /// A read goes past a node that refused the connection and one that
    /// never answered, and a 503 too: the third node's answer is the answer.
    @Test func readFailsOverOnEveryFailure() async throws {
        for second in [Self.silent, Self.noQuorum, Self.busy] {
            let (asked, result) = await Self.run(.harmless, [Self.refused, second, Self.served])
            #expect(asked == Self.nodes)
            #expect(try result.get().status == 200)
        }
    }

    /// A write goes on only past failures that surely did nothing: no
    /// connection, or 503 with Retry-After.
    @Test func writeFailsOverOnlyWhenNothingWasDone() async throws {
        let (asked, result) = await Self.run(.onlyIfUndone, [Self.refused, Self.busy, Self.served])
        #expect(asked == Self.nodes)
        #expect(try result.get().status == 200)
    }

    /// A write that may have reached a node (sent, no answer; or a 503
    /// quorum failure, which may have stored it on some replicas) is not
    /// sent to the next: the error names the nodes asked and says why.
    @Test func writeThatMayHaveBeenDoneIsNotRepeated() async throws {
        let (asked, result) = await Self.run(.onlyIfUndone, [Self.refused, Self.silent, Self.served])
        #expect(asked == Array(Self.nodes.prefix(2)))
        guard case .failure(let error) = result else {
            Issue.record("no error")
            return
        }
        #expect(error.status == nil)
        #expect(
            error.message
                == "tried http://127.0.0.1:8701 (connection refused), http://127.0.0.1:8702 (no answer within 10 s); "
                + "the request may have reached http://127.0.0.1:8702, so it is not sent to another node (a write "
                + "done twice leaves two siblings): read the key to see whether it was done")

        let (askedOnce, quorum) = await Self.run(.onlyIfUndone, [Self.noQuorum, Self.served, Self.served])
        #expect(askedOnce == [Self.nodes[0]])
        #expect((try? quorum.get()) == nil)
        if case .failure(let error) = quorum { #expect(error.status == 503) }
    }

    /// An error answer any node would give (a bad request) ends the list at once, as the node said it.
    @Test func errorAnswerIsTheAnswer() async throws {
        let bad = KvorumClientError(status: 400, message: "bad context")
        for repetition in [Repetition.harmless, .onlyIfUndone] {
            let (asked, result) = await Self.run(repetition, [Self.refused, .refused(bad), Self.served])
            #expect(asked == Array(Self.nodes.prefix(2)))
            #expect(throws: bad) { try result.get() }
        }
    }

    /// When every node failed, the error lists each with its reason, in
    /// order; it has no status when none answered, else the last answer's.
    @Test func everyNodeFailedNamesEachAndWhy() async throws {
        let (asked, result) = await Self.run(.harmless, [Self.refused, Self.silent, Self.refused])
        #expect(asked == Self.nodes)
        #expect(
            throws: KvorumClientError(
                status: nil,
                message: "cannot reach any of the 3 Kvorum nodes: tried http://127.0.0.1:8701 (connection refused), "
                    + "http://127.0.0.1:8702 (no answer within 10 s), http://127.0.0.1:8703 (connection refused)")
        ) { try result.get() }

        let (_, answered) = await Self.run(.harmless, [Self.noQuorum, Self.refused, Self.refused])
        #expect(
            throws: KvorumClientError(
                status: 503,
                message: "no Kvorum node could serve it: tried http://127.0.0.1:8701 (HTTP 503: quorum not reached), "
                    + "http://127.0.0.1:8702 (connection refused), http://127.0.0.1:8703 (connection refused)")
        ) { try answered.get() }
    }

    /// With one node given, its failure is its own error, as before failover existed.
    @Test func oneNodeKeepsItsOwnError() async throws {
        let own = KvorumClientError(status: nil, message: "cannot reach the Kvorum node at X: connection refused")
        let outcome = Failover.Outcome.failed(.init(kind: .undelivered, reason: "connection refused", error: own))
        let (_, result) = await Self.run(.harmless, [outcome], nodes: [Self.nodes[0]])
        #expect(throws: own) { try result.get() }
    }

    /// Reads are `GET`s and may be repeated; writes and membership changes may not.
    @Test func endpointsRepetition() {
        let harmless: [Endpoint] = [
            .get(key: "k", r: nil), .getRaw(key: "k", r: 2), .lookup(key: "k"), .members, .stats, .health,
            .localCopy(key: "k"), .keys(prefix: nil, after: nil, limit: nil), .metrics,
        ]
        let once: [Endpoint] = [
            .put(key: "k", value: "v", w: nil, context: nil),
            .putBytes(key: "k", bytes: [1], contentType: nil, w: nil, context: nil),
            .delete(key: "k", w: nil, context: nil), .join(address: "a:1"), .leave, .remove(name: "n"),
        ]
        #expect(harmless.allSatisfy { $0.repetition == .harmless })
        #expect(once.allSatisfy { $0.repetition == .onlyIfUndone })
    }

    /// Which exchange failures surely kept the request from the node.
    @Test func undeliveredFailures() {
        let undelivered: [HTTPExchange.Failure] = [
            .refused, .connectTimedOut, .unknownHost, .connectFailed("no route"), .tls("handshake"),
        ]
        let maybeDelivered: [HTTPExchange.Failure] = [.timedOut, .connectionLost, .notHTTP, .other("?")]
        #expect(undelivered.allSatisfy { $0.isUndelivered })
        #expect(!maybeDelivered.contains { $0.isUndelivered })
    }

    /// `--nodes` and `KVORUM_NODES`: URLs or host:port, comma-separated, in order.
    @Test func nodeLists() {
        #expect(
            NodeURLs.parseList("http://127.0.0.1:8701, 127.0.0.1:8702,https://db.example:8703")
                == [
                    URL(string: "http://127.0.0.1:8701")!, URL(string: "http://127.0.0.1:8702")!,
                    URL(string: "https://db.example:8703")!,
                ])
        for bad in ["", ",", "http://a:1,", "ftp://a:1", "http://a:1,not a url"] {
            #expect(NodeURLs.parseList(bad) == nil, "\(bad)")
        }
    }

    /// The local cluster's record gives every node, node1 first.
    @Test func clusterFileGivesEveryNode() throws {
        try ClientTests.inScratchDirectory { directory in
            #expect(ClusterFile.defaultNodes(workingDirectory: directory).urls == [ClusterFile.fallbackNodeURL])
            #expect(!ClusterFile.defaultNodes(workingDirectory: directory).found)
            let data = directory.appendingPathComponent(ClusterFile.defaultDirectory)
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
            try ClientTests.record.write(to: data)
            let chosen = ClusterFile.defaultNodes(workingDirectory: directory)
            #expect(chosen.found)
            #expect(chosen.urls == [URL(string: "http://127.0.0.1:8801")!, URL(string: "http://127.0.0.1:8802")!])
        }
    }

    /// Real sockets: a read fails over from a closed port to a listener
    /// that never answers and names both; a write to that listener is sent
    /// once and not repeated on the closed port after it.
    @Test(.timeLimit(.minutes(1))) func realSockets() async throws {
        let listener = try #require(LoopbackPorts.openListener(port: 0, reuseAddress: false))
        defer { close(listener.descriptor) }
        let closed = try #require(LoopbackPorts.allocate(1, excluding: [listener.port]).first)
        let closedURL = URL(string: "http://127.0.0.1:\(closed)")!
        let silentURL = URL(string: "http://127.0.0.1:\(listener.port)")!
        let read = KvorumClient(nodes: [closedURL, silentURL], timeout: 0.5)
        await #expect(
            throws: KvorumClientError(
                status: nil,
                message: "cannot reach any of the 2 Kvorum nodes: tried \(closedURL.absoluteString) "
                    + "(connection refused), \(silentURL.absoluteString) (no answer within 0.5 s)")
        ) { try await read.members() }

        let write = KvorumClient(nodes: [silentURL, closedURL], timeout: 0.5)
        await #expect {
            try await write.put("k", value: "v")
        } throws: { error in
            let message = (error as? KvorumClientError)?.message ?? ""
            return message.hasPrefix("tried \(silentURL.absoluteString) (no answer within 0.5 s); the request may")
                && !message.contains(closedURL.absoluteString)
        }
    }
}
