import FuzzSupport
import KvorumCore

/// What a node does with the messages a hostile or broken peer can send:
/// the input is frames as in `fuzz-peer-frames`, and every payload that
/// decodes is handed to a node of a three-node cluster holding two keys, as
/// the server would hand it. Then each timer the node armed fires once.
///
/// Decoding accepts any well-formed message, so the node itself must refuse
/// out-of-range values (partitions, tree levels, quorums, views) without a
/// trap: a trap here is a remote crash of a server.
@_cdecl("LLVMFuzzerTestOneInput")
public func peerNodeTarget(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    var cluster = Cluster()
    var rest = Fuzz.bytes(start, count)[...]
    while let length = try? PeerFrame.payloadLength(atStartOf: rest, maximumFrameSize: 1 << 16) {
        let end = rest.startIndex + PeerFrame.headerSize + length
        if let message = try? WireCodec.decode(rest[(rest.startIndex + PeerFrame.headerSize)..<end]) {
            cluster.deliver(.peer(from: Cluster.peerAddress, message))
        }
        rest = rest[end...]
    }
    cluster.fireArmedTimers()
    return 0
}

/// One node, `node01`, that believes in two peers and holds two keys.
private struct Cluster {
    static let peerAddress: Address = "127.0.0.1:9702"

    private let node: KvorumNode
    private var now = 0.0
    private var armed: [NodeTimer] = []

    init() {
        var config = NodeConfig(name: "node01", address: "127.0.0.1:9701", profile: .server)
        // Fewer partitions than a server's 4096 keep each run fast; every
        // range check is against the configured count.
        config.partitionCount = 64
        node = KvorumNode(config: config, storage: MemoryStorage())
        deliver(.start)
        deliver(.boot(joining: nil))
        let members = [
            MemberEntry(name: "node01", address: "127.0.0.1:9701", status: .up, version: 1, identity: config.identity),
            MemberEntry(name: "node02", address: Self.peerAddress, status: .up, version: 1, identity: 2),
            MemberEntry(name: "node03", address: "127.0.0.1:9703", status: .up, version: 1, identity: 3),
        ]
        deliver(.peer(from: Self.peerAddress, PeerMessage(from: "node02", viewDigest: 0, body: .view(members))))
        deliver(.client(1, ClientRequest(type: "PUT", body: ["key": "a", "value": "x", "quorum": 1])))
        deliver(.client(2, ClientRequest(type: "PUT", body: ["key": "cart-1", "value": "[\"y\"]", "quorum": 1])))
    }

    mutating func deliver(_ event: Event) {
        now += 0.01
        for effect in node.handle(event, now: now) {
            if case .setTimer(let name, _) = effect, !armed.contains(name) { armed.append(name) }
        }
    }

    mutating func fireArmedTimers() {
        let timers = armed
        armed = []
        for timer in timers { deliver(.timer(timer)) }
    }
}
