/// The compact binary encoding of peer messages, used between server nodes.
///
/// A frame payload is one version byte (`WireCodec.version`) followed by the
/// message. Integers are LEB128 varints except the view digest (8 bytes, big
/// endian); strings are a varint byte count and UTF-8 bytes; optionals are a
/// 0/1 byte then the value; enums are a tag byte then their fields in
/// declaration order. Decoding checks every length against the bytes left, so
/// garbage yields a `WireCodec.DecodeError`, never a crash or a huge
/// allocation. The tags are `PeerMessageTag`'s, shared by writer and reader.
public enum WireCodec {
    public static let version: UInt8 = 1

    public struct DecodeError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func encode(_ message: PeerMessage) -> [UInt8] {
        versioned { $0.message(message) }
    }

    public static func decode(_ bytes: some Collection<UInt8>) throws(DecodeError) -> PeerMessage {
        try unversioned(Array(bytes)) { reader throws(DecodeError) in try reader.message() }
    }

    /// A sibling set alone, as a store keeps it: the version byte, then the
    /// set as it travels inside a message.
    public static func encode(_ siblings: SiblingSet) -> [UInt8] {
        versioned { $0.siblings(siblings) }
    }

    /// The inverse of `encode(_: SiblingSet)`.
    public static func decodeSiblings(_ bytes: [UInt8]) throws(DecodeError) -> SiblingSet {
        try unversioned(bytes) { reader throws(DecodeError) in try reader.siblings() }
    }

    /// The version byte, then what `body` writes.
    private static func versioned(_ body: (inout Writer) -> Void) -> [UInt8] {
        var writer = Writer()
        // Room for a write's message (its value and metadata) at once:
        // growing the array as bytes come cost a copy at each doubling.
        writer.bytes.reserveCapacity(256)
        writer.byte(version)
        body(&writer)
        return writer.bytes
    }

    /// Checks the version byte, reads the rest with `body`, and refuses
    /// bytes left over.
    private static func unversioned<T>(
        _ bytes: [UInt8], _ body: (inout Reader) throws(DecodeError) -> T
    ) throws(DecodeError) -> T {
        var reader = Reader(bytes)
        let found = try reader.byte()
        guard found == version else {
            throw DecodeError(description: "unsupported wire version \(found) (this node speaks \(version))")
        }
        let value = try body(&reader)
        guard reader.isAtEnd else { throw DecodeError(description: "\(reader.remaining) trailing bytes") }
        return value
    }
}

extension WireCodec {
    /// The bytes of `value` as a varint, low seven bits first, each but the
    /// last with its high bit set, handed to `emit` one by one: how the
    /// writer puts every count and counter, and how a record's digest hashes
    /// its key's length (`TreePlace.digest`).
    static func varint(_ value: UInt64, _ emit: (UInt8) -> Void) {
        var v = value
        while v >= 0x80 {
            emit(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        emit(UInt8(v))
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func byte(_ b: UInt8) { bytes.append(b) }

        mutating func varint(_ value: UInt64) {
            WireCodec.varint(value) { bytes.append($0) }
        }

        mutating func int(_ value: Int) { varint(UInt64(bitPattern: Int64(value))) }

        mutating func string(_ s: String) {
            // A native string's contiguous bytes are copied at once; its
            // UTF-8 view would be stepped byte by byte.
            var s = s
            s.withUTF8 { utf8 in
                varint(UInt64(utf8.count))
                bytes.append(contentsOf: utf8)
            }
        }

        /// Raw bytes: their count, then the bytes.
        mutating func rawBytes(_ b: [UInt8]) {
            varint(UInt64(b.count))
            bytes.append(contentsOf: b)
        }

        /// A payload: 0, the value's bytes and its optional content type;
        /// or 1 for a tombstone.
        mutating func payload(_ p: Payload) {
            switch p {
            case .value(let value):
                byte(0)
                rawBytes(value.bytes)
                optionalString(value.contentType)
            case .tombstone:
                byte(1)
            }
        }

        /// A failure kind: 0 bad request, 1 unavailable, 2 conflict.
        mutating func failure(_ f: ClientReply.Failure) {
            switch f {
            case .badRequest: byte(0)
            case .unavailable: byte(1)
            case .conflict: byte(2)
            }
        }

        /// A key: its bytes, written as a string is.
        mutating func key(_ k: Key) { string(k.text) }

        mutating func optionalString(_ s: String?) {
            byte(s == nil ? 0 : 1)
            if let s { string(s) }
        }

        /// A count, then every item as `item` writes it.
        mutating func list<Items: Collection>(_ items: Items, _ item: (inout Writer, Items.Element) -> Void) {
            varint(UInt64(items.count))
            for element in items { item(&self, element) }
        }

        /// Eight bytes, big-endian, appended at once.
        mutating func fixed64(_ value: UInt64) {
            withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
        }

        mutating func dot(_ d: Dot) {
            string(d.actor)
            varint(d.counter)
        }

        mutating func vector(_ v: VersionVector) {
            list(v.ranges) {
                $0.string($1.actor)
                $0.varint($1.counter)
            }
            list(v.dots) { $0.dot($1) }
        }

        /// Each version: a flags byte (1: has a dot, 2: has `xcart` tags, 4:
        /// has `xcart` removals, 8: is a tombstone, 16: has a content type),
        /// the dot, the past, the value's bytes (none for a tombstone), its
        /// content type, then the tags (count, then item and dot each), then
        /// the removals (count, then item, dot and remover each). A text
        /// version without tags or removals encodes exactly as before those
        /// existed.
        mutating func siblings(_ set: SiblingSet) {
            list(set.versions) { writer, version in
                let value = version.payload.value
                writer.byte(
                    (version.dot == nil ? 0 : 1) | (version.tags == nil ? 0 : 2) | (version.removed == nil ? 0 : 4)
                        | (value == nil ? 8 : 0) | (value?.contentType == nil ? 0 : 16))
                if let d = version.dot { writer.dot(d) }
                writer.vector(version.past)
                if let value {
                    writer.rawBytes(value.bytes)
                    if let contentType = value.contentType { writer.string(contentType) }
                }
                if let tags = version.tags {
                    writer.list(tags) {
                        $0.string($1.item)
                        $0.dot($1.dot)
                    }
                }
                if let removed = version.removed {
                    writer.list(removed) {
                        $0.string($1.tag.item)
                        $0.dot($1.tag.dot)
                        $0.dot($1.remover)
                    }
                }
            }
        }

        mutating func keyDigests(_ digests: [KeyDigest]) {
            list(digests) {
                $0.key($1.key)
                $0.fixed64($1.digest)
            }
        }

        mutating func keyedRecords(_ records: [KeyedSiblings]) {
            list(records) {
                $0.key($1.key)
                $0.siblings($1.siblings)
            }
        }

        /// A report: the HTTP address (optional string), the record count,
        /// the phase byte, then the hint counts (target and count each).
        mutating func report(_ r: PeerReport) {
            optionalString(r.httpAddress)
            int(r.records)
            byte(r.phase.rawValue)
            list(r.hints) {
                $0.string($1.target)
                $0.int($1.count)
            }
        }

        mutating func member(_ m: MemberEntry) {
            string(m.name)
            string(m.address)
            byte(m.status == .up ? 0 : 1)
            varint(m.version)
            fixed64(m.identity)
        }

        mutating func message(_ m: PeerMessage) {
            string(m.from)
            fixed64(m.viewDigest)
            byte(m.body.tag.rawValue)
            switch m.body {
            case .forwardPut(let op, let key, let payload, let context, let quorum):
                varint(op)
                self.key(key)
                self.payload(payload)
                byte(context == nil ? 0 : 1)
                if let context { vector(context) }
                int(quorum)
            case .forwardResult(let op, let outcome):
                varint(op)
                switch outcome {
                case .written(let metadata, let siblings):
                    byte(0)
                    string(metadata)
                    int(siblings)
                case .failed(let reason, let failure):
                    byte(1)
                    string(reason)
                    self.failure(failure)
                }
            case .write(let op, let key, let set, let hintFor):
                varint(op)
                self.key(key)
                siblings(set)
                optionalString(hintFor)
            case .repair(let key, let set):
                self.key(key)
                siblings(set)
            case .writeAck(let op):
                varint(op)
            case .read(let op, let key):
                varint(op)
                self.key(key)
            case .readReply(let op, let set):
                varint(op)
                siblings(set)
            case .handoff(let batch, let records):
                varint(batch)
                keyedRecords(records)
            case .handoffAck(let batch):
                varint(batch)
            case .ping, .viewCheck:
                break
            case .pong(let report):
                byte(report == nil ? 0 : 1)
                if let report { self.report(report) }
            case .join(let entry):
                member(entry)
            case .joinRefused(let reason):
                string(reason)
            case .view(let entries):
                list(entries) { $0.member($1) }
            case .aeTree(let level, let entries):
                int(level)
                list(entries) {
                    $0.int($1.index)
                    $0.fixed64($1.hash)
                }
            case .aeKeys(let partitions, let digests):
                list(partitions) { $0.int($1) }
                keyDigests(digests)
            case .aeFetch(let keys):
                list(keys) { $0.key($1) }
            case .aeRecords(let records):
                keyedRecords(records)
            case .reapCheck(let round, let keys):
                varint(round)
                list(keys) { $0.key($1) }
            case .reapStatus(let round, let held):
                varint(round)
                keyDigests(held)
            case .reap(let records):
                keyDigests(records)
            case .forwardOffer(let op):
                varint(op)
            case .forwardReady(let op):
                varint(op)
            case .listKeys(let op, let round, let partitions, let query):
                varint(op)
                int(round)
                list(partitions) { $0.int($1) }
                key(query.prefix)
                optionalString(query.after?.text)
                int(query.limit)
            case .listKeysReply(let op, let round, let keys, let full):
                varint(op)
                int(round)
                list(keys) { $0.key($1) }
                byte(full ? 1 : 0)
            }
        }
    }

    struct Reader {
        private let bytes: [UInt8]
        private var index = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var remaining: Int { bytes.count - index }
        var isAtEnd: Bool { index == bytes.count }

        private func fail(_ what: String) -> DecodeError {
            DecodeError(description: "\(what) at byte \(index)")
        }

        mutating func byte() throws(DecodeError) -> UInt8 {
            guard index < bytes.count else { throw fail("truncated message") }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func varint() throws(DecodeError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let b = try byte()
                guard shift < 64, shift < 63 || b <= 1 else { throw fail("varint overflows 64 bits") }
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }

        mutating func int() throws(DecodeError) -> Int {
            let raw = Int64(bitPattern: try varint())
            guard let value = Int(exactly: raw) else { throw fail("integer out of range") }
            return value
        }

        /// A count of items each at least `minimumSize` bytes long.
        mutating func count(minimumSize: Int) throws(DecodeError) -> Int {
            let n = try varint()
            guard n <= UInt64(remaining / max(minimumSize, 1)) else { throw fail("count \(n) exceeds the message") }
            return Int(n)
        }

        /// A count of items each at least `minimumSize` bytes long, then that
        /// many items as `item` reads them.
        mutating func list<T>(
            minimumSize: Int, _ item: (inout Reader) throws(DecodeError) -> T
        ) throws(DecodeError) -> [T] {
            let n = try count(minimumSize: minimumSize)
            var items: [T] = []
            items.reserveCapacity(n)
            for _ in 0..<n { items.append(try item(&self)) }
            return items
        }

        mutating func string() throws(DecodeError) -> String {
            let length = try count(minimumSize: 1)
            let slice = bytes[index..<index + length]
            index += length
            guard let s = Self.validUTF8(slice) else { throw fail("string is not UTF-8") }
            return s
        }

        /// The bytes as a string if they are valid UTF-8. Decoding (which
        /// repairs) and comparing is exact, as a repaired string is valid
        /// UTF-8 and so equals its input only if that was valid, and it
        /// takes the specialized path, where `String(validating:)` took a
        /// generic one that looked up type metadata for every string.
        static func validUTF8(_ slice: ArraySlice<UInt8>) -> String? {
            slice.withUnsafeBufferPointer { buffer in
                // ASCII, what names and most keys are, is valid as it is.
                if isASCII(UnsafeRawBufferPointer(buffer)) { return String(decoding: buffer, as: UTF8.self) }
                var decoded = String(decoding: buffer, as: UTF8.self)
                return decoded.withUTF8 { $0.elementsEqual(buffer) } ? decoded : nil
            }
        }

        /// Whether no byte has its high bit set, checked eight at a time.
        static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
            var index = 0
            var high: UInt64 = 0
            while index + 8 <= bytes.count {
                high |= bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < bytes.count {
                high |= UInt64(bytes[index])
                index += 1
            }
            return high & 0x8080_8080_8080_8080 == 0
        }

        mutating func rawBytes() throws(DecodeError) -> [UInt8] {
            let length = try count(minimumSize: 1)
            defer { index += length }
            return Array(bytes[index..<index + length])
        }

        mutating func payload() throws(DecodeError) -> Payload {
            switch try byte() {
            case 0: return .value(Value(bytes: try rawBytes(), contentType: try optionalString()))
            case 1: return .tombstone
            case let other: throw fail("bad payload kind \(other)")
            }
        }

        mutating func failure() throws(DecodeError) -> ClientReply.Failure {
            switch try byte() {
            case 0: return .badRequest
            case 1: return .unavailable
            case 2: return .conflict
            case let other: throw fail("bad failure kind \(other)")
            }
        }

        mutating func key() throws(DecodeError) -> Key { Key(try string()) }

        mutating func flag() throws(DecodeError) -> Bool {
            switch try byte() {
            case 0: return false
            case 1: return true
            case let other: throw fail("bad flag \(other)")
            }
        }

        mutating func optionalString() throws(DecodeError) -> String? {
            try flag() ? try string() : nil
        }

        mutating func fixed64() throws(DecodeError) -> UInt64 {
            var value: UInt64 = 0
            for _ in 0..<8 { value = value << 8 | UInt64(try byte()) }
            return value
        }

        mutating func dot() throws(DecodeError) -> Dot {
            Dot(actor: try string(), counter: try varint())
        }

        mutating func vector() throws(DecodeError) -> VersionVector {
            let ranges = try list(minimumSize: 2) { reader throws(DecodeError) in
                VersionVector.Range(actor: try reader.string(), counter: try reader.varint())
            }
            let dots = try list(minimumSize: 2) { reader throws(DecodeError) in try reader.dot() }
            return VersionVector(ranges: ranges, dots: dots)
        }

        mutating func siblings() throws(DecodeError) -> SiblingSet {
            // The smallest version is a dotless tombstone with an empty
            // past: its flags byte and two empty counts.
            let versions = try list(minimumSize: 3) { reader throws(DecodeError) in
                let flags = try reader.byte()
                guard flags < 32, flags & 8 == 0 || flags & 16 == 0 else {
                    throw reader.fail("bad version flags \(flags)")
                }
                let d = flags & 1 != 0 ? try reader.dot() : nil
                let past = try reader.vector()
                let payload: Payload =
                    flags & 8 != 0
                    ? .tombstone
                    : .value(
                        Value(bytes: try reader.rawBytes(), contentType: flags & 16 != 0 ? try reader.string() : nil))
                let tags =
                    flags & 2 != 0
                    ? try reader.list(minimumSize: 3) { reader throws(DecodeError) in
                        ItemTag(item: try reader.string(), dot: try reader.dot())
                    } : nil
                let removed =
                    flags & 4 != 0
                    ? try reader.list(minimumSize: 5) { reader throws(DecodeError) in
                        RemovedTag(
                            tag: ItemTag(item: try reader.string(), dot: try reader.dot()), remover: try reader.dot())
                    } : nil
                return Version(dot: d, past: past, payload: payload, tags: tags, removed: removed)
            }
            return SiblingSet(versions)
        }

        mutating func keyDigests() throws(DecodeError) -> [KeyDigest] {
            try list(minimumSize: 9) { reader throws(DecodeError) in
                KeyDigest(key: try reader.key(), digest: try reader.fixed64())
            }
        }

        mutating func keyedRecords() throws(DecodeError) -> [KeyedSiblings] {
            try list(minimumSize: 2) { reader throws(DecodeError) in
                KeyedSiblings(key: try reader.key(), siblings: try reader.siblings())
            }
        }

        mutating func report() throws(DecodeError) -> PeerReport {
            let http = try optionalString()
            let records = try int()
            let phaseByte = try byte()
            guard let phase = PeerReport.Phase(rawValue: phaseByte) else { throw fail("bad phase \(phaseByte)") }
            let hints = try list(minimumSize: 2) { reader throws(DecodeError) in
                PeerReport.HintCount(target: try reader.string(), count: try reader.int())
            }
            return PeerReport(httpAddress: http, records: records, phase: phase, hints: hints)
        }

        mutating func member() throws(DecodeError) -> MemberEntry {
            let name = try string()
            let address = try string()
            let status: MemberEntry.Status = try flag() ? .left : .up
            let version = try varint()
            return MemberEntry(name: name, address: address, status: status, version: version, identity: try fixed64())
        }

        mutating func message() throws(DecodeError) -> PeerMessage {
            let from = try string()
            let digest = try fixed64()
            let body: PeerBody
            let raw = try byte()
            guard let tag = PeerMessageTag(rawValue: raw) else { throw fail("unknown message tag \(raw)") }
            switch tag {
            case .forwardPut:
                let op = try varint()
                let key = try self.key()
                let payload = try payload()
                let context = try flag() ? try vector() : nil
                body = .forwardPut(op: op, key: key, payload: payload, context: context, quorum: try int())
            case .forwardResult:
                let op = try varint()
                let outcome: WriteOutcome =
                    try flag()
                    ? .failed(reason: try string(), failure: try failure())
                    : .written(metadata: try string(), siblings: try int())
                body = .forwardResult(op: op, outcome: outcome)
            case .write:
                let op = try varint()
                let key = try self.key()
                let set = try siblings()
                body = .write(op: op, key: key, siblings: set, hintFor: try optionalString())
            case .writeAck: body = .writeAck(op: try varint())
            case .read: body = .read(op: try varint(), key: try key())
            case .readReply: body = .readReply(op: try varint(), siblings: try siblings())
            case .handoff:
                let batch = try varint()
                body = .handoff(batch: batch, records: try keyedRecords())
            case .handoffAck: body = .handoffAck(batch: try varint())
            case .ping: body = .ping
            case .pong:
                // A pong without even the flag byte is an older node's.
                body = .pong(isAtEnd ? nil : try flag() ? try report() : nil)
            case .join: body = .join(try member())
            case .view:
                body = .view(try list(minimumSize: 12) { reader throws(DecodeError) in try reader.member() })
            case .joinRefused:
                body = .joinRefused(reason: try string())
            case .aeTree:
                let level = try int()
                let entries = try list(minimumSize: 9) { reader throws(DecodeError) in
                    TreeEntry(index: try reader.int(), hash: try reader.fixed64())
                }
                body = .aeTree(level: level, entries: entries)
            case .aeKeys:
                let partitions = try list(minimumSize: 1) { reader throws(DecodeError) in try reader.int() }
                body = .aeKeys(partitions: partitions, digests: try keyDigests())
            case .aeFetch:
                body = .aeFetch(keys: try list(minimumSize: 1) { reader throws(DecodeError) in try reader.key() })
            case .aeRecords:
                body = .aeRecords(try keyedRecords())
            case .forwardOffer: body = .forwardOffer(op: try varint())
            case .forwardReady: body = .forwardReady(op: try varint())
            case .viewCheck: body = .viewCheck
            case .repair:
                let key = try self.key()
                body = .repair(key: key, siblings: try siblings())
            case .reapCheck:
                let round = try varint()
                body = .reapCheck(
                    round: round, keys: try list(minimumSize: 1) { reader throws(DecodeError) in try reader.key() })
            case .reapStatus:
                let round = try varint()
                body = .reapStatus(round: round, held: try keyDigests())
            case .reap:
                body = .reap(try keyDigests())
            case .listKeys:
                let op = try varint()
                let round = try int()
                let partitions = try list(minimumSize: 1) { reader throws(DecodeError) in try reader.int() }
                let prefix = try key()
                let after = try optionalString().map { Key($0) }
                body = .listKeys(
                    op: op, round: round, partitions: partitions,
                    query: KeyQuery(prefix: prefix, after: after, limit: try int()))
            case .listKeysReply:
                let op = try varint()
                let round = try int()
                let keys = try list(minimumSize: 1) { reader throws(DecodeError) in try reader.key() }
                body = .listKeysReply(op: op, round: round, keys: keys, full: try flag())
            }
            return PeerMessage(from: from, viewDigest: digest, body: body)
        }
    }
}
