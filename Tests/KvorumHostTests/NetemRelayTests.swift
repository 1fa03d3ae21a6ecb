import Foundation
import XCTest

@testable import kvorum_chaos

/// The relay for real: two test hosts in namespaces of their own
/// (`TestNetwork`), a `kvorum-chaos relay` in host A's namespace and a
/// `NetemLink` routing A's packets for B through it. Needs root, `ip` and
/// /dev/net/tun; without them each test prints a `SKIPPED:` line and passes.
final class NetemRelayTests: XCTestCase {
    private let delay = Duration.milliseconds(300)
    private let seed: UInt64 = 11

    /// Why these tests cannot run here, or `nil` if they can.
    private static var skipReason: String? {
        if getuid() != 0 { return "not root (network namespaces and TUN devices need it)" }
        if SystemCommand.locate("ip") == nil { return "no ip (iproute2) command" }
        if !FileManager.default.fileExists(atPath: "/dev/net/tun") { return "no /dev/net/tun" }
        return nil
    }

    /// `KVORUM_CHAOS_EXECUTABLE` if set, else the `kvorum-chaos` that
    /// `swift build` built next to the test bundle.
    private static var relayExecutable: URL {
        if let path = ProcessInfo.processInfo.environment["KVORUM_CHAOS_EXECUTABLE"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("kvorum-chaos")
    }

    /// A datagram path from host A to another host, its one-way times taken on one clock.
    private struct DatagramPath {
        let sender: TestSocket
        let receiver: TestSocket

        init(_ hosts: TestNetwork, to index: Int = 1) throws {
            let (from, to) = (hosts.hosts[0], hosts.hosts[index])
            sender = try TestSocket(namespace: from.namespace, type: SOCK_DGRAM, address: from.address)
            receiver = try TestSocket(namespace: to.namespace, type: SOCK_DGRAM, address: to.address)
        }

        /// Sends `count` numbered datagrams back to back, then collects
        /// arrivals until `expected` have come or `patience` has passed:
        /// for each datagram, the transit time of every copy that arrived,
        /// and the order of arrival.
        func send(_ count: Int, expecting expected: Int, within patience: Duration) throws -> (
            transits: [[Duration]], order: [Int]
        ) {
            var sent: [ContinuousClock.Instant] = []
            for number in 0..<count {
                sent.append(.now)
                try sender.send(withUnsafeBytes(of: UInt32(number).bigEndian, Array.init), to: receiver.local)
            }
            var transits = Array(repeating: [Duration](), count: count)
            var order: [Int] = []
            let deadline = ContinuousClock.now + patience
            while order.count < expected, let payload = try receiver.receive(within: deadline - .now) {
                let arrived = ContinuousClock.now
                let number = Int(payload.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(as: UInt32.self)) })
                transits[number].append(arrived - sent[number])
                order.append(number)
            }
            return (transits, order)
        }
    }

    /// A TCP connection from A to B, opened directly before any relay runs.
    private struct Connection {
        let client: TestSocket
        let server: TestSocket
        private let listener: TestSocket

        init(_ hosts: TestNetwork) throws {
            listener = try TestSocket(
                namespace: hosts.hosts[1].namespace, type: SOCK_STREAM, address: hosts.hosts[1].address)
            try listener.listen()
            (client, server) = try TestSocket.connect(
                from: hosts.hosts[0].namespace, address: hosts.hosts[0].address, to: listener, within: .seconds(5))
        }

        /// The time for one byte to go from A to B and back.
        func roundTrip() throws -> Duration {
            let start = ContinuousClock.now
            try client.send([1])
            guard try server.receive(within: .seconds(5)) == [1] else { throw NetemError("A→B byte lost") }
            try server.send([2])
            guard try client.receive(within: .seconds(5)) == [2] else { throw NetemError("B→A byte lost") }
            return .now - start
        }
    }

    /// Runs `body` with two fresh test hosts, removed afterwards whatever happens.
    private func withHosts(count: Int = 2, _ body: (TestNetwork) throws -> Void) throws {
        if let reason = Self.skipReason {
            print("SKIPPED: \(name): \(reason)")
            return
        }
        guard FileManager.default.isExecutableFile(atPath: Self.relayExecutable.path) else {
            XCTFail("no kvorum-chaos at \(Self.relayExecutable.path): run `swift build` first")
            return
        }
        let hosts = try TestNetwork(prefix: "10.213.201", count: count, tag: "r\(getpid() % 10_000)")
        defer {
            let failures = hosts.teardown()
            XCTAssert(failures.isEmpty, "cleanup failed: \(failures)")
        }
        try body(hosts)
    }

    /// Starts a relay in A's namespace for A's packets to the other hosts
    /// (`NetemHostRelay`), runs `body`, then stops the relay (also when
    /// `body` fails) and returns its counts.
    private func throughRelay(
        _ hosts: TestNetwork, _ parameters: NetemParameters, _ body: (NetemLink) throws -> Void
    ) throws -> NetemCounts {
        let a = hosts.hosts[0]
        let relay = try NetemHostRelay.start(
            namespace: a.namespace, ownAddress: a.address, peers: hosts.hosts.dropFirst().map(\.address),
            parameters: parameters, seed: seed, executable: Self.relayExecutable)
        let outcome = Result { try body(relay.link) }
        let counts = Result { try relay.stop() }
        try outcome.get()
        return try counts.get()
    }

    /// Host A's rules and IPv4 routes in every table.
    private func routing(of host: TestHost) throws -> String {
        try SystemCommand.run("ip", ["-n", host.namespace, "rule", "show"])
            + SystemCommand.run("ip", ["-n", host.namespace, "-4", "route", "show", "table", "all"])
    }

    func testDelayHoldsEveryPacketAndRemovalRestoresDirectDelivery() throws {
        try withHosts { hosts in
            let path = try DatagramPath(hosts)
            let connection = try Connection(hosts)
            let direct = try path.send(10, expecting: 10, within: .seconds(5)).transits
            let directTrip = try connection.roundTrip()
            let routingBefore = try routing(of: hosts.hosts[0])
            var delayed: [[Duration]] = []
            var delayedTrip = Duration.zero
            var restored: [[Duration]] = []
            var restoredTrip = Duration.zero
            let counts = try throughRelay(hosts, NetemParameters(delay: delay)) { link in
                delayed = try path.send(10, expecting: 10, within: .seconds(5)).transits
                delayedTrip = try connection.roundTrip()
                try link.remove()
                XCTAssertEqual(try routing(of: hosts.hosts[0]), routingBefore)
                restored = try path.send(10, expecting: 10, within: .seconds(5)).transits
                restoredTrip = try connection.roundTrip()
            }
            print(
                "relay delay \(delay): one-way direct max \(direct.joined().max()!), through the relay "
                    + "\(delayed.joined().min() ?? .zero)…\(delayed.joined().max() ?? .zero), after removal max \(restored.joined().max()!); "
                    + "TCP round trip \(directTrip) / \(delayedTrip) / \(restoredTrip); \(counts.stoppedLine)")
            for (name, transits) in [("direct", direct), ("delayed", delayed), ("restored", restored)] {
                XCTAssertTrue(transits.allSatisfy { $0.count == 1 }, "\(name): every datagram once: \(transits)")
            }
            XCTAssertTrue(direct.joined().allSatisfy { $0 < delay / 3 }, "\(direct)")
            XCTAssertTrue(delayed.joined().allSatisfy { $0 >= delay }, "\(delayed)")
            XCTAssertTrue(restored.joined().allSatisfy { $0 < delay / 3 }, "\(restored)")
            XCTAssertLessThan(directTrip, delay / 3)
            XCTAssertGreaterThanOrEqual(delayedTrip, delay)
            XCTAssertLessThan(restoredTrip, delay / 3)
            XCTAssertEqual(counts.dropped, 0)
            XCTAssertEqual(counts.failed, 0)
            XCTAssertGreaterThanOrEqual(counts.relayed, 11)
            XCTAssertEqual(try routing(of: hosts.hosts[0]), routingBefore)
        }
    }

    func testLossOneDeliversNothing() throws {
        try withHosts { hosts in
            let path = try DatagramPath(hosts)
            var lost: [[Duration]] = []
            let counts = try throughRelay(hosts, NetemParameters(loss: 1)) { _ in
                lost = try path.send(20, expecting: 1, within: .seconds(1)).transits
            }
            XCTAssertTrue(lost.allSatisfy(\.isEmpty), "arrived: \(lost)")
            XCTAssertEqual(counts.dropped, 20, counts.stoppedLine)
            XCTAssertEqual(counts.relayed, 0, counts.stoppedLine)
            let after = try path.send(1, expecting: 1, within: .seconds(5)).transits
            XCTAssertEqual(after.map(\.count), [1], "direct delivery after the relay")
        }
    }

    func testDuplicateOneDeliversEveryDatagramTwice() throws {
        try withHosts { hosts in
            let path = try DatagramPath(hosts)
            var copies: [[Duration]] = []
            let counts = try throughRelay(hosts, NetemParameters(duplicate: 1)) { _ in
                copies = try path.send(20, expecting: 40, within: .seconds(5)).transits
            }
            XCTAssertEqual(copies.map(\.count), Array(repeating: 2, count: 20))
            XCTAssertEqual(counts.duplicated, 20, counts.stoppedLine)
            XCTAssertEqual(counts.relayed, 40, counts.stoppedLine)
        }
    }

    func testReorderHoldsBackThePacketsTheScheduleSays() throws {
        try withHosts { hosts in
            let path = try DatagramPath(hosts)
            let parameters = NetemParameters(reorder: 0.5, reorderDelay: delay)
            var schedule = NetemSchedule(parameters: parameters, seed: seed)
            let held = (0..<20).map { _ in schedule.nextFate() != .deliver([.zero]) }
            var order: [Int] = []
            _ = try throughRelay(hosts, parameters) { _ in
                order = try path.send(20, expecting: 20, within: .seconds(5)).order
            }
            let onTime = (0..<20).filter { !held[$0] }
            let late = (0..<20).filter { held[$0] }
            XCTAssertFalse(late.isEmpty)
            XCTAssertEqual(order, onTime + late)
        }
    }

    func testWithdrawingOnePeerLeavesTheOthersOnTheRelay() throws {
        try withHosts(count: 3) { hosts in
            let toB = try DatagramPath(hosts, to: 1)
            let toC = try DatagramPath(hosts, to: 2)
            var arrivals: (b: [[Duration]], c: [[Duration]]) = ([], [])
            let counts = try throughRelay(hosts, NetemParameters(loss: 1)) { link in
                try link.withdraw(peers: [hosts.hosts[1].address])
                XCTAssertEqual(try link.routedPeers(), [hosts.hosts[2].address])
                arrivals.b = try toB.send(5, expecting: 5, within: .seconds(5)).transits
                arrivals.c = try toC.send(5, expecting: 1, within: .seconds(1)).transits
            }
            XCTAssertEqual(arrivals.b.map(\.count), Array(repeating: 1, count: 5), "B direct again")
            XCTAssertTrue(arrivals.c.allSatisfy(\.isEmpty), "C still dropped: \(arrivals.c)")
            XCTAssertEqual(counts.dropped, 5, counts.stoppedLine)
        }
    }

    func testAFailedInstallStopsTheRelayAndSaysWhy() throws {
        try withHosts { hosts in
            let a = hosts.hosts[0]
            let routingBefore = try routing(of: a)
            XCTAssertThrowsError(
                try NetemHostRelay.start(
                    namespace: a.namespace, ownAddress: a.address, peers: ["10.213.201.300"],
                    parameters: NetemParameters(), seed: seed, executable: Self.relayExecutable)
            ) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains("route replace 10.213.201.300/32"), message)
                XCTAssertTrue(message.contains("exit status"), message)
            }
            XCTAssertThrowsError(try SystemCommand.run("ip", ["-n", a.namespace, "link", "show", "kvnetem0"]))
            XCTAssertEqual(try routing(of: a), routingBefore)
        }
    }

    func testARelayThatExitsLeavesDirectRouting() throws {
        try withHosts { hosts in
            let (a, b) = (hosts.hosts[0], hosts.hosts[1])
            let path = try DatagramPath(hosts)
            let routingBefore = try routing(of: a)
            let relay = try NetemRelayProcess.start(
                executable: Self.relayExecutable, namespace: a.namespace, device: "kvnetem0",
                parameters: NetemParameters(loss: 1), seed: seed)
            let link = NetemLink(namespace: a.namespace, device: relay.device, ownAddress: a.address)
            let installed = Result { try link.install(peers: [b.address]) }
            let counts = try relay.stop()
            try installed.get()
            XCTAssertEqual(counts.received, 0)
            XCTAssertEqual(try link.routedPeers(), [])
            let after = try path.send(1, expecting: 1, within: .seconds(5)).transits
            XCTAssertEqual(after.map(\.count), [1], "direct delivery once the relay is gone")
            try link.remove()
            XCTAssertEqual(try routing(of: a), routingBefore)
        }
    }
}
