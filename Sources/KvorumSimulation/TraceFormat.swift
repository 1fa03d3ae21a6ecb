import KvorumCore

/// Compact, deterministic renderings of times, peer messages and client bodies
/// for the simulation trace. Long strings are shortened with `…` so that one
/// event stays one readable line.
public enum TraceFormat {
    /// Longest key or value shown before it is shortened.
    static let maxText = 24
    /// Longest metadata or context string shown before it is shortened.
    static let maxMetadata = 48
    /// Longest client body shown before it is shortened.
    static let maxClientBody = 200
    /// Most siblings, records or members listed before the rest is summarised.
    static let maxItems = 4

    /// A virtual time as `[   1.250]`: milliseconds, right-aligned.
    public static func time(_ seconds: Double) -> String {
        let text = self.seconds(seconds)
        return "[" + String(repeating: " ", count: max(0, 7 - text.count)) + text + "]"
    }

    /// A duration or time in seconds with millisecond precision, e.g. `0.300`.
    public static func seconds(_ value: Double) -> String {
        let millis = Int64((value * 1000).rounded())
        let sign = millis < 0 ? "-" : ""
        let magnitude = millis.magnitude
        let fraction = String(magnitude % 1000)
        return sign + String(magnitude / 1000) + "." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    /// A peer message body, e.g. `write op:3 "k" ["v"@node01.1:1|] hint:node04`.
    public static func describe(_ body: PeerBody) -> String {
        switch body {
        case .forwardPut(let op, let key, let payload, let context, let quorum):
            var text = "forwardPut op:\(op) \(quoted(key))=\(describe(payload)) q\(quorum)"
            if let context { text += " ctx:" + shortened(Metadata.encode(context), to: maxMetadata) }
            return text
        case .forwardOffer(let op):
            return "forwardOffer op:\(op)"
        case .forwardReady(let op):
            return "forwardReady op:\(op)"
        case .viewCheck:
            return "viewCheck"
        case .forwardResult(let op, .written(let metadata, _)):
            return "forwardResult op:\(op) written " + shortened(metadata, to: maxMetadata)
        case .forwardResult(let op, .failed(let reason, _)):
            return "forwardResult op:\(op) failed \(quoted(reason, limit: maxMetadata))"
        case .write(let op, let key, let siblings, let hintFor):
            var text = "write op:\(op) \(quoted(key)) " + describe(siblings)
            if let hintFor { text += " hint:" + hintFor }
            return text
        case .repair(let key, let siblings):
            return "repair \(quoted(key)) " + describe(siblings)
        case .writeAck(let op):
            return "writeAck op:\(op)"
        case .read(let op, let key):
            return "read op:\(op) \(quoted(key))"
        case .readReply(let op, let siblings):
            return "readReply op:\(op) " + describe(siblings)
        case .handoff(let batch, let records):
            let items = records.map { "\(quoted($0.key))×\($0.siblings.versions.count)" }
            return "handoff batch:\(batch) " + listed(items)
        case .handoffAck(let batch):
            return "handoffAck batch:\(batch)"
        case .ping:
            return "ping"
        case .pong(let report):
            guard let report else { return "pong" }
            return "pong records:\(report.records) \(report.phase)"
        case .join(let entry):
            return "join " + describe(entry, withAddress: true)
        case .joinRefused(let reason):
            return "joinRefused " + quoted(reason, limit: maxMetadata)
        case .view(let entries):
            return "view " + listed(entries.map { describe($0, withAddress: false) })
        case .aeTree(let level, let entries):
            return "aeTree L\(level) " + listed(entries.map { "\($0.index)" })
        case .aeKeys(let partitions, let digests):
            return "aeKeys p" + listed(partitions.map(String.init)) + " " + listed(digests.map { quoted($0.key) })
        case .aeFetch(let keys):
            return "aeFetch " + listed(keys.map { quoted($0) })
        case .aeRecords(let records):
            return "aeRecords " + listed(records.map { "\(quoted($0.key))×\($0.siblings.versions.count)" })
        case .reapCheck(let round, let keys):
            return "reapCheck r:\(round) " + listed(keys.map { quoted($0) })
        case .reapStatus(let round, let held):
            return "reapStatus r:\(round) " + listed(held.map { quoted($0.key) })
        case .reap(let records):
            return "reap " + listed(records.map { quoted($0.key) })
        case .listKeys(let op, let round, let partitions, let query):
            var text = "listKeys op:\(op) round:\(round) \(partitions.count) partitions prefix:\(quoted(query.prefix))"
            if let after = query.after { text += " after:\(quoted(after))" }
            return text + " limit:\(query.limit)"
        case .listKeysReply(let op, let round, let keys, let full):
            return "listKeysReply op:\(op) round:\(round) " + listed(keys.map { quoted($0) }) + (full ? " full" : "")
        }
    }

    /// A payload: its text quoted, or `tombstone`.
    public static func describe(_ payload: Payload) -> String {
        guard let value = payload.value else { return "tombstone" }
        return quoted(value.text)
    }

    /// Siblings as `["v1"@meta1, "v2"@meta2]`, at most a few of them.
    public static func describe(_ siblings: SiblingSet) -> String {
        listed(siblings.versions.map { describe($0.payload) + "@" + shortened($0.metadata, to: maxMetadata) })
    }

    /// A client request or response body: its canonical JSON, shortened if long.
    public static func describe(_ body: JSON) -> String {
        shortened(body.rendered, to: maxClientBody)
    }

    private static func describe(_ entry: MemberEntry, withAddress: Bool) -> String {
        let who = withAddress ? entry.name + "@" + entry.address : entry.name
        return who + " " + entry.status.rawValue + "/" + String(entry.version)
    }

    private static func listed(_ items: [String]) -> String {
        var shown = items.prefix(maxItems).joined(separator: ", ")
        if items.count > maxItems { shown += ", +\(items.count - maxItems) more" }
        return "[" + shown + "]"
    }

    private static func quoted(_ text: String, limit: Int = maxText) -> String {
        JSON.string(shortened(text, to: limit)).rendered
    }

    private static func quoted(_ key: Key) -> String { quoted(key.text) }

    private static func shortened(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }
}
