import Foundation
import KvorumClient
import KvorumTestKit
import Testing

/// Real `kvorum node` processes started as a multi-host deployment starts
/// them: listening on a wildcard and advertising another address, from a
/// config file alone; refusing settings other hosts could not use; and the
/// admin endpoint that reads one node's own copy of a key.
@Suite(.serialized)
struct DeployProcessTests {
    /// A node listening on 0.0.0.0 and advertising 127.0.0.1:P joins
    /// another: both list it under the advertised address (never the
    /// wildcard), and a write that needs its acknowledgement succeeds, so
    /// the other node dials it there.
    @Test(.timeLimit(.minutes(1)))
    func wildcardListenerIsKnownByItsAdvertisedAddress() async throws {
        let cluster = try await LocalCluster.start(nodes: 1)
        defer { cluster.shutdown() }
        let node1 = cluster.nodes[0]
        let node2 = try await cluster.startExtra(joining: node1, style: .wildcardListen)
        try await cluster.waitUntil("both nodes list 2 members", timeout: 20) { try await cluster.everyNodeLists(2) }
        for node in cluster.nodes {
            let members = try await node.client().members()
            #expect(
                members == [Member(name: "node1", address: node1.peer), Member(name: "node2", address: node2.peer)])
        }
        #expect(try await node2.client().stats().address == node2.peer)
        let written = try await node1.client().put("across", value: "hosts", w: 2)
        #expect(try await node2.client().get("across", r: 2).metadata == [written])
    }

    /// When a node listening on a wildcard dials a peer, its hello names
    /// the advertised address, by which the peer will know and answer it.
    @Test(.timeLimit(.minutes(1)))
    func peerHelloNamesTheAdvertisedAddress() async throws {
        let listener = try RawListener()
        let cluster = try LocalCluster.empty()
        defer { cluster.shutdown() }
        // Not a node: a name for the listener's address, for --join.
        let contact = LocalNode(
            name: "listener", peerPort: listener.port, httpPort: 0, dataDirectory: cluster.root)
        let node = try await cluster.startExtra(joining: contact, style: .wildcardListen)
        let hello = try listener.firstFrame(timeout: 10)
        // Marker 0, version 1, the name's 2-byte length and the name, then the address.
        #expect(Array(hello.prefix(4)) == [0, 1, 0, UInt8(node.name.utf8.count)])
        #expect(String(decoding: hello.dropFirst(4), as: UTF8.self) == node.name + node.peer)
    }

    /// A node given nothing but `--config FILE` reads every setting from
    /// it, joins through the file's contact, and serves.
    @Test(.timeLimit(.minutes(1)))
    func nodeStartsFromAConfigFileAlone() async throws {
        let cluster = try await LocalCluster.start(nodes: 1)
        defer { cluster.shutdown() }
        let node2 = try await cluster.startExtra(joining: cluster.nodes[0], style: .configFile)
        try await cluster.waitUntil("both nodes list 2 members", timeout: 20) { try await cluster.everyNodeLists(2) }
        let stats = try await node2.client().stats()
        #expect(stats.name == "node2" && stats.address == node2.peer)
        let log = try String(contentsOf: node2.log, encoding: .utf8)
        #expect(log.contains("kvorum node --config \(node2.configFile.path)\n"), "\(log.prefix(300))")
        _ = try await node2.client().put("configured", value: "yes", w: 2)
        #expect(try await cluster.nodes[0].client().get("configured", r: 2).values == ["yes"])
    }

    /// Settings that would give other hosts an address they cannot use, and
    /// a config file with a key that is no setting, stop the process before
    /// it starts, with a message naming the fix or the key and the file.
    @Test(.timeLimit(.minutes(1)))
    func unusableSettingsStopTheProcess() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kvorum-deploy-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ports = try LoopbackPorts.allocate(2)
        let common = ["node", "--name", "n1", "--http", "127.0.0.1:\(ports[1])", "--data-dir", directory.path]

        let wildcard = try ChildProcess.run(
            Paths.kvorum, common + ["--listen", "0.0.0.0:\(ports[0])"], deadline: 20)
        #expect(wildcard.status != 0 && !wildcard.timedOut)
        #expect(wildcard.stderr.contains("--listen 0.0.0.0:\(ports[0]) is a wildcard address"), "\(wildcard.stderr)")
        #expect(wildcard.stderr.contains("--advertise"), "\(wildcard.stderr)")

        let remote = try ChildProcess.run(
            Paths.kvorum, common + ["--listen", "127.0.0.1:\(ports[0])", "--join", "10.255.0.1:7700"], deadline: 20)
        #expect(remote.status != 0 && !remote.timedOut)
        #expect(
            remote.stderr.contains("is a loopback address, but the contact 10.255.0.1:7700 is not"), "\(remote.stderr)")

        let file = directory.appendingPathComponent("kvorum.toml")
        try Data("name = \"n1\"\nlisten_addr = \"127.0.0.1:\(ports[0])\"\n".utf8).write(to: file)
        let badKey = try ChildProcess.run(
            Paths.kvorum, ["node", "--config", file.path], environment: ["KVORUM_ADVERTISE": "0.0.0.0:1"],
            deadline: 20)
        #expect(badKey.status != 0 && !badKey.timedOut)
        #expect(badKey.stderr.contains("\(file.path): unknown key 'listen_addr'"), "\(badKey.stderr)")

        let advertise = try ChildProcess.run(
            Paths.kvorum, common + ["--listen", "127.0.0.1:\(ports[0])"],
            environment: ["KVORUM_ADVERTISE": "0.0.0.0:1"],
            deadline: 20)
        #expect(advertise.status != 0 && !advertise.timedOut)
        #expect(advertise.stderr.contains("KVORUM_ADVERTISE=0.0.0.0:1 is a wildcard address"), "\(advertise.stderr)")
    }

    /// A node restarted on its data directory at another address (a host
    /// replaced with the old one's disk) announces the new address itself:
    /// every member lists it there, and a write that needs its
    /// acknowledgement reaches it.
    @Test(.timeLimit(.minutes(1)))
    func nodeMovedWithItsDataIsKnownAtItsNewAddress() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let written = try await cluster.nodes[0].client().put("moving", value: "along", w: 3)
        try await cluster.terminate(cluster.nodes[2])
        let moved = try await cluster.move(cluster.nodes[2])
        let listed = Member(name: moved.name, address: moved.peer)
        try await cluster.waitUntil("every node lists \(moved) at \(moved.peer)", timeout: 20) {
            for node in cluster.nodes where try await !node.client().members().contains(listed) { return false }
            return true
        }
        #expect(try await moved.client().get("moving", r: 1).metadata == [written])
        _ = try await cluster.nodes[0].client().put("after-move", value: "here", w: 3)
    }

    /// A contact whose own address is not loopback refuses a member that
    /// asks to join with a loopback address, and logs why: the member set
    /// stays as it was.
    @Test(.timeLimit(.minutes(1)))
    func contactRefusesALoopbackMemberAndLogsIt() async throws {
        let cluster = try LocalCluster.empty()
        defer { cluster.shutdown() }
        let contact = try await cluster.startExtra(joining: nil, style: .advertising("10.255.0.1:7700"))
        let joiner = try await cluster.startExtra(joining: contact)
        try await cluster.waitUntil("the contact logs the refusal", timeout: 20) {
            let log = try String(contentsOf: contact.log, encoding: .utf8)
            return log.contains("refusing join") && log.contains("its address \(joiner.peer) is loopback")
        }
        #expect(try await contact.client().members() == [Member(name: contact.name, address: "10.255.0.1:7700")])
    }

    /// `GET /admin/local/{key}` answers from the node's own store: each
    /// replica shows the version it holds, a key it lacks comes back empty
    /// (200), and it still answers with the other replicas dead, when a
    /// quorum read cannot; `kvorum get --local` prints it.
    @Test(.timeLimit(.minutes(1)))
    func localCopyReadsOneNodesOwnStore() async throws {
        let cluster = try await LocalCluster.start(nodes: 3)
        defer { cluster.shutdown() }
        let (node1, node2, node3) = (cluster.nodes[0], cluster.nodes[1], cluster.nodes[2])
        let written = try await node1.client().put("a/key", value: "local", w: 3)
        for node in cluster.nodes {
            let copy = try await node.client().localCopy("a/key")
            #expect(copy == LocalCopy(key: "a/key", node: node.name, values: ["local"], metadata: [written]))
        }
        let absent = try RawConnection.http(
            port: node2.httpPort,
            Array("GET /admin/local/nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        #expect(absent.status == 200)
        #expect(
            absent.text.hasSuffix("\r\n\r\n{\"key\":\"nothing\",\"metadata\":[],\"node\":\"node2\",\"values\":[]}\n"),
            "\(absent.text)")

        cluster.kill9(node2)
        cluster.kill9(node3)
        await #expect(throws: KvorumClientError.self) { try await node1.client(timeout: 10).get("a/key", r: 2) }
        #expect(try await node1.client().localCopy("a/key").values == ["local"])
        let cli = try ChildProcess.run(
            Paths.kvorum, ["get", "a/key", "--local", "--node", node1.httpURL.absoluteString], deadline: 20)
        #expect(cli.status == 0 && cli.stdout == "local\n", "\(cli.stderr)")
        let absentCLI = try ChildProcess.run(
            Paths.kvorum, ["get", "nothing", "--local", "--node", node1.httpURL.absoluteString], deadline: 20)
        #expect(absentCLI.status == 1 && absentCLI.stderr.contains("not found"), "\(absentCLI.stderr)")
    }
}
