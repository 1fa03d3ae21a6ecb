import Foundation
import KvorumClient
import KvorumCore
import KvorumServer
import KvorumTestKit
import Testing

/// Mutual TLS between real `kvorum node` processes (`--certs-dir`): a
/// cluster whose nodes hold certificates of one CA serves; peers without a
/// certificate, with one of another CA, or with a valid one for another
/// name are refused (logged, counted by reason, closed) while the cluster
/// keeps serving and loses nothing it acknowledged; a node restarted with a
/// newly issued certificate takes part again.
@Suite(.serialized)
struct PeerTLSProcessTests {
    /// A three-node cluster of one CA, each node with its own certificate
    /// directory, serving HTTPS to clients with an admin token.
    static func startCluster() async throws -> (LocalCluster, TestCertificates) {
        let certificates = try TestCertificates(
            root: FileManager.default.temporaryDirectory.appendingPathComponent("kvorum-tls-\(UUID().uuidString)"))
        let token = AccessToken.make()
        let config = certificates.root.appendingPathComponent("auth.toml")
        try """
        [[auth.tokens]]
        name = "test"
        role = "admin"
        sha256 = "\(AccessToken.hexHash(token))"
        """.write(to: config, atomically: true, encoding: .utf8)
        let credentials = ClientCredentials(caFile: certificates.caFile.path, token: token)
        let cluster = try await LocalCluster.start(nodes: 3, credentials: credentials) { name in
            ["--certs-dir", try certificates.node(name).path, "--config", config.path]
        }
        return (cluster, certificates)
    }

    /// The value of `kvorum_peer_connections_refused_total{reason=…}` on `node`.
    static func refusals(_ reason: String, on node: LocalNode) async throws -> Int {
        let text = String(decoding: try await node.client().send(.metrics).body, as: UTF8.self)
        let prefix = "kvorum_peer_connections_refused_total{reason=\"\(reason)\"} "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
            throw ClusterError(description: "no \(prefix)line in /metrics:\n\(text.prefix(2000))")
        }
        return Int(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Writes `key` with w=3 through node1 and checks that every write
    /// acknowledged so far reads back with r=3 from node3.
    static func checkServing(_ cluster: LocalCluster, key: String, acknowledged: inout [String: String]) async throws {
        let written = try await cluster.nodes[0].client().put(key, value: "v-\(key)", w: 3)
        acknowledged[key] = written
        for (key, metadata) in acknowledged {
            let read = try await cluster.nodes[2].client().get(key, r: 3)
            #expect(read.metadata == [metadata], "\(key) after refusals")
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func tlsClusterServesAndRefusesPeersWithoutTheRightCertificate() async throws {
        let (cluster, certificates) = try await Self.startCluster()
        defer {
            cluster.shutdown()
            try? FileManager.default.removeItem(at: certificates.root)
        }
        let (node1, node2) = (cluster.nodes[0], cluster.nodes[1])
        let caFile = certificates.caFile
        var acknowledged: [String: String] = [:]
        try await Self.checkServing(cluster, key: "before", acknowledged: &acknowledged)
        #expect(try String(contentsOf: node1.log, encoding: .utf8).contains("peer TLS on"))

        // No certificate, no TLS: a plain hello as any node sent it before.
        let plain = try RawConnection(port: node1.peerPort)
        plain.send(PeerBytes.hello(node2.peer, name: node2.name))
        #expect(plain.receiveUntilClosed().closed, "a plain-TCP peer was kept")

        // TLS, but no client certificate.
        let anonymous = try TLSTestPeer(port: node1.peerPort, certificates: nil, trusting: caFile)
        anonymous.send(PeerBytes.hello(node2.peer, name: node2.name))

        // A certificate for node2, from another CA.
        let otherCA = try TestCertificates(root: certificates.root.appendingPathComponent("other-ca"))
        let foreign = try TLSTestPeer(port: node1.peerPort, certificates: try otherCA.node("node2"), trusting: caFile)
        foreign.send(PeerBytes.hello(node2.peer, name: node2.name))

        // A valid certificate of this CA for node4: claiming node2's name,
        // then its own name at node2's address.
        let node4 = try certificates.node("node4")
        let claimsName = try TLSTestPeer(port: node1.peerPort, certificates: node4, trusting: caFile)
        claimsName.send(PeerBytes.hello(node2.peer, name: node2.name) + PeerBytes.frame(Self.ping(from: "node2")))
        let claimsAddress = try TLSTestPeer(port: node1.peerPort, certificates: node4, trusting: caFile)
        claimsAddress.send(PeerBytes.hello(node2.peer, name: "node4") + PeerBytes.frame(Self.ping(from: "node4")))

        // Its own name and an address of no member, but asking to join as node2.
        let joinsAsOther = try TLSTestPeer(port: node1.peerPort, certificates: node4, trusting: caFile)
        let join = PeerMessage(
            from: "node4", viewDigest: 0,
            body: .join(MemberEntry(name: "node2", address: "127.0.0.1:2", status: .up, version: 1)))
        joinsAsOther.send(PeerBytes.hello("127.0.0.1:2", name: "node4") + PeerBytes.frame(join))

        // The same certificate under its own name and an address of no
        // member is accepted: it gets its ping answered.
        let honest = try TLSTestPeer(port: node1.peerPort, certificates: node4, trusting: caFile)
        honest.send(PeerBytes.hello("127.0.0.1:1", name: "node4") + PeerBytes.frame(Self.ping(from: "node4")))

        try await cluster.waitUntil("node1 closes every impostor and answers the honest peer", timeout: 20) {
            anonymous.isClosed && foreign.isClosed && claimsName.isClosed && claimsAddress.isClosed
                && joinsAsOther.isClosed && honest.messages().contains { $0.body.kind == "pong" }
        }
        #expect(!honest.isClosed)
        #expect(claimsName.messages().isEmpty && claimsAddress.messages().isEmpty)
        honest.close()
        #expect(try await Self.refusals("tls_handshake", on: node1) >= 3)
        #expect(try await Self.refusals("name_mismatch", on: node1) == 1)
        #expect(try await Self.refusals("member_mismatch", on: node1) == 1)
        #expect(try await Self.refusals("join_mismatch", on: node1) == 1)
        let log = try String(contentsOf: node1.log, encoding: .utf8)
        #expect(log.contains("peer certificate is for node4 but the hello claims node2"))
        #expect(log.contains("\(node2.peer) is member node2's address but the peer certificate is for node4"))

        try await Self.checkServing(cluster, key: "after", acknowledged: &acknowledged)
        for node in cluster.nodes {
            #expect(try await node.client().members().map(\.name) == ["node1", "node2", "node3"])
        }
    }

    /// The dialer's side: node3 dies and a listener with a valid
    /// certificate of the cluster CA for node4 takes its port. The nodes that
    /// dial node3's address complete the TLS handshake, see a certificate
    /// for another name than the member's at that address, and close the
    /// connection before sending their hello or any message; writes with
    /// w=2 still succeed on node1 and node2.
    @Test(.timeLimit(.minutes(2)))
    func aDialerRefusesAnAcceptorWithAnotherMembersCertificate() async throws {
        let (cluster, certificates) = try await Self.startCluster()
        defer {
            cluster.shutdown()
            try? FileManager.default.removeItem(at: certificates.root)
        }
        let (node1, node3) = (cluster.nodes[0], cluster.nodes[2])
        cluster.kill9(node3)
        let impostor = try TLSTestAcceptor(port: node3.peerPort, certificates: try certificates.node("node4"))
        var written: [String: String] = [:]
        try await cluster.waitUntil("node1 refuses node4's certificate at node3's address", timeout: 30) {
            for _ in 0..<5 {
                let key = "k\(written.count)"
                written[key] = try await node1.client(timeout: 3).put(key, value: "v", w: 2)
            }
            return try await Self.refusals("member_mismatch", on: node1) > 0
        }
        #expect(impostor.handshakes > 0)
        #expect(impostor.received.isEmpty, "a node sent \(impostor.received.count) bytes to the impostor")
        let log = try String(contentsOf: node1.log, encoding: .utf8)
        #expect(log.contains("\(node3.peer) is member node3's address but the peer certificate is for node4"))
        for (key, metadata) in written {
            #expect(try await cluster.nodes[1].client().get(key, r: 2).metadata == [metadata])
        }
    }

    /// node2, stopped and started again with a newly issued certificate
    /// (new key, same name), is taken back: a write that needs its
    /// acknowledgement succeeds and it holds the value.
    @Test(.timeLimit(.minutes(2)))
    func aNodeRestartedWithANewCertificateRejoins() async throws {
        let (cluster, certificates) = try await Self.startCluster()
        defer {
            cluster.shutdown()
            try? FileManager.default.removeItem(at: certificates.root)
        }
        let node2 = cluster.nodes[1]
        let before = try Data(contentsOf: certificates.node("node2").appendingPathComponent("node.crt"))
        try await cluster.terminate(node2)
        try certificates.node("node2", reissue: true)
        let after = try Data(contentsOf: certificates.node("node2").appendingPathComponent("node.crt"))
        #expect(before != after)
        try await cluster.restart(node2)
        try await cluster.waitUntil("a w=3 write through node1 succeeds", timeout: 30) {
            (try? await cluster.nodes[0].client(timeout: 2).put("rotated", value: "v", w: 3)) != nil
        }
        #expect(try await node2.client().localCopy("rotated").values == ["v"])
    }

    /// A node off loopback without certificates stops before it binds,
    /// saying how to make them; `--certs-dir` with `--insecure` is refused;
    /// a certificate directory that is missing a file is named.
    @Test(.timeLimit(.minutes(1)))
    func offLoopbackWithoutCertificatesTheNodeRefusesToStart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kvorum-secure-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ports = try LoopbackPorts.allocate(2)
        let common = [
            "node", "--name", "n1", "--listen", "127.0.0.1:\(ports[0])", "--http", "127.0.0.1:\(ports[1])",
            "--data-dir", directory.path,
        ]
        let exposed = try ChildProcess.run(
            Paths.kvorum, common + ["--advertise", "10.255.0.1:\(ports[0])"], deadline: 20)
        #expect(exposed.status != 0 && !exposed.timedOut)
        #expect(
            exposed.stderr.contains("--advertise 10.255.0.1:\(ports[0]) is not a loopback address"), "\(exposed.stderr)"
        )
        #expect(exposed.stderr.contains("kvorum certs create-ca --certs-dir DIR"), "\(exposed.stderr)")
        #expect(exposed.stderr.contains("kvorum certs create-node n1 --host 10.255.0.1"), "\(exposed.stderr)")
        #expect(exposed.stderr.contains("--insecure"), "\(exposed.stderr)")

        let both = try ChildProcess.run(
            Paths.kvorum, common + ["--certs-dir", directory.path, "--insecure"], deadline: 20)
        #expect(both.status != 0 && !both.timedOut)
        #expect(both.stderr.contains("turns TLS on and --insecure turns it off"), "\(both.stderr)")

        let missing = try ChildProcess.run(Paths.kvorum, common + ["--certs-dir", directory.path], deadline: 20)
        #expect(missing.status != 0 && !missing.timedOut)
        #expect(missing.stderr.contains("\(directory.path)/ca.crt does not exist"), "\(missing.stderr)")
    }

    static func ping(from name: String) -> PeerMessage {
        PeerMessage(from: name, viewDigest: 0, body: .ping)
    }
}
