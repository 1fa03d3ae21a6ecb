/// A message between nodes: who sent it, a digest of the sender's membership
/// view (so views that differ are noticed on any contact), and the body.
public struct PeerMessage: Hashable, Sendable, Codable {
    public var from: String
    public var viewDigest: UInt64
    public var body: PeerBody

    public init(from: String, viewDigest: UInt64, body: PeerBody) {
        self.from = from
        self.viewDigest = viewDigest
        self.body = body
    }
}

/// The outcome of a forwarded write.
public enum WriteOutcome: Hashable, Sendable, Codable {
    /// Stored by the quorum: the new version's metadata and how many versions
    /// the key's record held at the coordinator once it was written.
    case written(metadata: String, siblings: Int)
    case failed(reason: String, failure: ClientReply.Failure)
}

/// One key's versions in a handoff batch.
public struct KeyedSiblings: Hashable, Sendable, Codable {
    public var key: Key
    public var siblings: SiblingSet

    public init(key: Key, siblings: SiblingSet) {
        self.key = key
        self.siblings = siblings
    }
}

/// One node of an anti-entropy hash tree: its index within its level and its hash.
public struct TreeEntry: Hashable, Sendable, Codable {
    public var index: Int
    public var hash: UInt64

    public init(index: Int, hash: UInt64) {
        self.index = index
        self.hash = hash
    }
}

/// A stored key and the digest of its versions, for anti-entropy.
public struct KeyDigest: Hashable, Sendable, Codable {
    public var key: Key
    public var digest: UInt64

    public init(key: Key, digest: UInt64) {
        self.key = key
        self.digest = digest
    }
}

public enum PeerBody: Hashable, Sendable, Codable {
    /// Forwarding, phase 1: a non-replica asks a replica whether it is there
    /// to coordinate the forwarder's client write `op` (nothing else travels).
    case forwardOffer(op: UInt64)
    /// The replica is there. Stateless: it promises and keeps nothing.
    case forwardReady(op: UInt64)
    /// Forwarding, phase 2: the write itself, sent once per operation to the
    /// replica that answered `forwardReady` (Dynamo §4.5). The replica
    /// coordinates it at most once per (forwarder address, op).
    case forwardPut(op: UInt64, key: Key, payload: Payload, context: VersionVector?, quorum: Int)
    case forwardResult(op: UInt64, outcome: WriteOutcome)
    /// Store these versions and acknowledge; with `hintFor`, the receiver is
    /// a stand-in for that replica.
    case write(op: UInt64, key: Key, siblings: SiblingSet, hintFor: String?)
    /// Read repair (Dynamo §5): store these versions, which the coordinator
    /// of a read found missing here; nothing is acknowledged.
    case repair(key: Key, siblings: SiblingSet)
    case writeAck(op: UInt64)
    case read(op: UInt64, key: Key)
    case readReply(op: UInt64, siblings: SiblingSet)
    /// Hinted handoff and ring transfers: records the receiver is a replica of.
    case handoff(batch: UInt64, records: [KeyedSiblings])
    case handoffAck(batch: UInt64)
    /// Are you there? Sent to suspected peers (probes) and, with a
    /// heartbeat, to members not heard from for an interval.
    case ping
    /// The answer to `ping`; with a heartbeat configured, it carries the
    /// sender's report (an older node or a node without heartbeat sends none).
    case pong(PeerReport?)
    case join(MemberEntry)
    /// The answer to a `join` the receiver will not take: why. The joiner
    /// stops asking and refuses client requests with the reason.
    case joinRefused(reason: String)
    case view([MemberEntry])
    /// The periodic view exchange: the message's view digest is the point.
    /// A receiver whose view differs answers with its view, every time.
    case viewCheck
    /// Anti-entropy (Dynamo §4.7): the sender's hashes of these tree nodes
    /// (over the partitions both replicate); the receiver answers only for
    /// the nodes whose hash differs, one level down.
    case aeTree(level: Int, entries: [TreeEntry])
    /// Anti-entropy at the leaves: the sender's key digests in these partitions.
    case aeKeys(partitions: [Int], digests: [KeyDigest])
    /// Anti-entropy: send me your versions of these keys.
    case aeFetch(keys: [Key])
    /// Anti-entropy: versions to merge (no acknowledgement).
    case aeRecords([KeyedSiblings])
    /// Tombstone reaping: the sender, the first replica of these keys,
    /// asks what the receiver holds of them.
    case reapCheck(round: UInt64, keys: [Key])
    /// The answer to `reapCheck`: the digest of every asked key the receiver
    /// holds a record of (keys it lacks are left out).
    case reapStatus(round: UInt64, held: [KeyDigest])
    /// Remove these records if they still hold exactly the tombstones of
    /// this digest: every member holds them or nothing, and has for the
    /// grace period.
    case reap([KeyDigest])
    /// Key listing: the receiver's live keys in these partitions that the
    /// query admits, at most `query.limit` of them, in byte order. `round`
    /// counts the listing's asks (a silent node's partitions are asked again
    /// in the next round), so an answer the network delivers late or twice
    /// is never taken for an answer of a later round.
    case listKeys(op: UInt64, round: Int, partitions: [Int], query: KeyQuery)
    /// The answer to `listKeys`, with its round; `full` when it stopped at
    /// the limit, so that keys after its last one may have been left out.
    case listKeysReply(op: UInt64, round: Int, keys: [Key], full: Bool)

    /// A short name for traces and message counts.
    public var kind: String {
        switch self {
        case .forwardOffer: "forwardOffer"
        case .forwardReady: "forwardReady"
        case .forwardPut: "forwardPut"
        case .forwardResult: "forwardResult"
        case .write: "write"
        case .repair: "repair"
        case .writeAck: "writeAck"
        case .read: "read"
        case .readReply: "readReply"
        case .handoff: "handoff"
        case .handoffAck: "handoffAck"
        case .ping: "ping"
        case .pong: "pong"
        case .join: "join"
        case .joinRefused: "joinRefused"
        case .view: "view"
        case .viewCheck: "viewCheck"
        case .aeTree: "aeTree"
        case .aeKeys: "aeKeys"
        case .aeFetch: "aeFetch"
        case .aeRecords: "aeRecords"
        case .reapCheck: "reapCheck"
        case .reapStatus: "reapStatus"
        case .reap: "reap"
        case .listKeys: "listKeys"
        case .listKeysReply: "listKeysReply"
        }
    }
}

/// The tag byte of each message on the wire (`WireCodec`): one list for the
/// writer and the reader. A tag is never reused; 1 (the former
/// `forwardAccepted`) is retired.
public enum PeerMessageTag: UInt8, CaseIterable, Sendable {
    case forwardPut = 0
    case forwardResult = 2
    case write = 3
    case writeAck = 4
    case read = 5
    case readReply = 6
    case handoff = 7
    case handoffAck = 8
    case ping = 9
    case pong = 10
    case join = 11
    case view = 12
    case aeTree = 13
    case aeKeys = 14
    case aeFetch = 15
    case aeRecords = 16
    case forwardOffer = 17
    case forwardReady = 18
    case viewCheck = 19
    case repair = 20
    case joinRefused = 21
    case listKeys = 22
    case listKeysReply = 23
    case reapCheck = 24
    case reapStatus = 25
    case reap = 26
}

extension PeerBody {
    /// The message's tag on the wire.
    public var tag: PeerMessageTag {
        switch self {
        case .forwardPut: .forwardPut
        case .forwardResult: .forwardResult
        case .write: .write
        case .repair: .repair
        case .writeAck: .writeAck
        case .read: .read
        case .readReply: .readReply
        case .handoff: .handoff
        case .handoffAck: .handoffAck
        case .ping: .ping
        case .pong: .pong
        case .join: .join
        case .joinRefused: .joinRefused
        case .view: .view
        case .aeTree: .aeTree
        case .aeKeys: .aeKeys
        case .aeFetch: .aeFetch
        case .aeRecords: .aeRecords
        case .forwardOffer: .forwardOffer
        case .forwardReady: .forwardReady
        case .viewCheck: .viewCheck
        case .reapCheck: .reapCheck
        case .reapStatus: .reapStatus
        case .reap: .reap
        case .listKeys: .listKeys
        case .listKeysReply: .listKeysReply
        }
    }

    /// Whether a server may send this message before the store changes of
    /// the same turn are committed: a request that asks its receiver for
    /// something and vouches for nothing the sender stored. Acknowledgements,
    /// answers and membership news wait for the commit.
    ///
    /// A forwarded write (`forwardOffer`, then `forwardPut`) is a request:
    /// the receiver executes it, and what it relies on at the forwarder is
    /// already durable, since the operation id comes from an epoch range the
    /// store reserved in a transaction of its own at start. `forwardReady`
    /// promises nothing either, but it is an answer and waits like the rest.
    /// A read repair carries versions the sender already holds durably (it
    /// read them from its store or from peers' answers) and asks nothing back.
    /// A reap check and a key listing's request ask; their answers, and a
    /// reap, wait.
    public var mayLeaveBeforeCommit: Bool {
        switch self {
        case .forwardOffer, .forwardPut, .write, .repair, .read, .handoff, .ping, .viewCheck, .aeTree, .aeKeys,
            .aeFetch, .reapCheck, .listKeys:
            true
        case .forwardReady, .forwardResult, .writeAck, .readReply, .handoffAck, .pong, .join, .joinRefused, .view,
            .aeRecords, .reapStatus, .reap, .listKeysReply:
            false
        }
    }
}
