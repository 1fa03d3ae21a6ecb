import Foundation
import KvorumCore

/// What a client thread runs against a key (the key's name says which, see
/// each case).
public enum Workload: String, Codable, Sendable, CaseIterable {
    /// Blind writes of unique values, no context: every acknowledged value
    /// must stay among the key's siblings.
    case set
    /// Read, add one unique item, write the list back with the read's
    /// context, on keys named `cart…` (merged by union): every acknowledged
    /// item must stay in the cart.
    case cart
    /// Read-modify-write chains with contexts: a write may disappear only
    /// when a write whose client had read it superseded it.
    case register
}

/// A client operation's function.
public enum OperationFunction: String, Codable, Sendable {
    case read, write
}

/// The faults the nemesis applies, each later healed.
public enum FaultKind: String, Codable, Sendable, CaseIterable {
    case linkCutOneWay = "link-cut-one-way"
    case linkCut = "link-cut"
    case isolate
    case partitionMajority = "partition-majority"
    case partitionBridge = "partition-bridge"
    case netem
    case kill
    case pause
    case wipe
}

/// Whether a nemesis record applies a fault or heals it.
public enum NemesisPhase: String, Codable, Sendable {
    case start, stop
}

/// One client operation: its invocation, or its completion (which shares the
/// invocation's `op` and repeats what was sent).
public struct OperationRecord: Codable, Hashable, Sendable {
    /// The client thread.
    public var process: Int
    /// Unique per run; an invoke and its completion share it.
    public var op: Int
    /// Seconds since the run started.
    public var time: Double
    public var workload: Workload
    public var f: OperationFunction
    public var key: String
    /// The node the request went to.
    public var node: String
    /// Write: the value written (for cart: the whole comma-separated list written).
    public var value: String?
    /// Cart write: the one unique item this write adds.
    public var item: String?
    /// Write: the context sent (nil = blind); read ok: the context returned.
    public var context: String?
    /// Write ok: the new version's metadata as the node returned it.
    public var metadata: String?
    /// Read ok: the sibling values returned.
    public var values: [String]?
    /// Fail / info: why.
    public var error: String?

    public init(
        process: Int, op: Int, time: Double, workload: Workload, f: OperationFunction, key: String, node: String,
        value: String? = nil, item: String? = nil, context: String? = nil, metadata: String? = nil,
        values: [String]? = nil, error: String? = nil
    ) {
        self.process = process
        self.op = op
        self.time = time
        self.workload = workload
        self.f = f
        self.key = key
        self.node = node
        self.value = value
        self.item = item
        self.context = context
        self.metadata = metadata
        self.values = values
        self.error = error
    }
}

/// A fault applied (`start`) or healed (`stop`); `id` pairs the two.
public struct NemesisRecord: Codable, Hashable, Sendable {
    public var time: Double
    public var phase: NemesisPhase
    public var fault: FaultKind
    /// Pairs a start with its stop.
    public var id: Int
    /// What the fault hit, e.g. `n1 n2 n3 | n4 n5`.
    public var detail: String

    public init(time: Double, phase: NemesisPhase, fault: FaultKind, id: Int, detail: String) {
        self.time = time
        self.phase = phase
        self.fault = fault
        self.id = id
        self.detail = detail
    }
}

/// One node's copy of one key, read after the heal and convergence.
public struct FinalRecord: Codable, Hashable, Sendable {
    public var key: String
    public var workload: Workload
    public var node: String
    /// The node is one of the key's replicas in the final ring.
    public var replica: Bool
    public var values: [String]
    /// `metadata[i]` belongs to `values[i]`.
    public var metadata: [String]

    public init(key: String, workload: Workload, node: String, replica: Bool, values: [String], metadata: [String]) {
        self.key = key
        self.workload = workload
        self.node = node
        self.replica = replica
        self.values = values
        self.metadata = metadata
    }

    /// The copy as replicas are compared: value and metadata of every
    /// version, in a fixed order. Replicas of a key have converged when
    /// their signatures are equal.
    public var signature: [String] {
        zip(values, metadata).map { $0.1 + "\u{0}" + $0.0 }.sorted(by: byteOrder)
    }
}

/// One line of a history. Jepsen's vocabulary: an operation is invoked, then
/// completes `ok`, `fail` (the node answered with an error: for a write, it may
/// still have been applied) or `info` (indeterminate: a timeout or a broken
/// connection).
public enum HistoryEntry: Hashable, Sendable {
    case invoke(OperationRecord)
    case ok(OperationRecord)
    case fail(OperationRecord)
    case info(OperationRecord)
    case nemesis(NemesisRecord)
    case final(FinalRecord)
}

/// The record of a fault run: every client operation (invoked, then ok,
/// failed or indeterminate), every fault the nemesis applied and healed, and
/// every replica's final copy of every key, one JSON object per line.
///
/// A line is a flat object: `"type"` (`invoke`, `ok`, `fail`, `info`,
/// `nemesis` or `final`) beside the record's own fields, absent optionals
/// omitted, keys sorted so the same entry always gives the same bytes:
/// `{"f":"write","key":"reg-2","node":"n2","op":17,"process":3,"time":12.401,"type":"ok",…}`.
public enum History {
    /// Why a line is not a history entry.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// 1-based, when the line came from `parse(jsonLines:)`.
        public var line: Int?
        /// The offending text (cut to 200 characters).
        public var text: String
        public var reason: String

        public var description: String {
            let place = line.map { "line \($0): " } ?? ""
            return "\(place)\(reason): \(text)"
        }
    }

    /// How times that JSON numbers cannot hold are spelled: the encoder and
    /// the decoder agree, so every record encodes and every line decodes.
    private static let nonFinite = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

    /// One JSON object, no newline.
    public static func line(_ entry: HistoryEntry) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        // Records of strings, integers and (now always encodable) doubles cannot fail to encode.
        let data = try! encoder.encode(TypedEntry(entry))
        return String(decoding: data, as: UTF8.self)
    }

    /// Parses one line.
    public static func parse(line: String) throws(ParseError) -> HistoryEntry {
        let data = Data(line.utf8)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        do {
            return try decoder.decode(TypedEntry.self, from: data).entry
        } catch {
            throw ParseError(line: nil, text: String(line.prefix(200)), reason: reason(error))
        }
    }

    /// Parses a JSON-lines history; blank lines are skipped.
    public static func parse(jsonLines: String) throws(ParseError) -> [HistoryEntry] {
        var entries: [HistoryEntry] = []
        let lines = jsonLines.split(separator: "\n", omittingEmptySubsequences: false)
        for (index, line) in lines.enumerated() {
            let text = line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
            if text.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            do throws(ParseError) {
                entries.append(try parse(line: text))
            } catch {
                var located = error
                located.line = index + 1
                throw located
            }
        }
        return entries
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _):
            return "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at '\(path(context))'"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not a JSON object" : "bad value at '\(path(context))'"
        default:
            return "not a history entry"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }
}

/// The line codec: the entry's `type` beside its record's fields in one object.
private struct TypedEntry: Codable {
    enum EntryType: String, Codable {
        case invoke, ok, fail, info, nemesis, final
    }

    private enum CodingKeys: String, CodingKey {
        case type
    }

    var entry: HistoryEntry

    init(_ entry: HistoryEntry) { self.entry = entry }

    init(from decoder: any Decoder) throws {
        let type = try decoder.container(keyedBy: CodingKeys.self).decode(EntryType.self, forKey: .type)
        switch type {
        case .invoke: entry = .invoke(try OperationRecord(from: decoder))
        case .ok: entry = .ok(try OperationRecord(from: decoder))
        case .fail: entry = .fail(try OperationRecord(from: decoder))
        case .info: entry = .info(try OperationRecord(from: decoder))
        case .nemesis: entry = .nemesis(try NemesisRecord(from: decoder))
        case .final: entry = .final(try FinalRecord(from: decoder))
        }
    }

    func encode(to encoder: any Encoder) throws {
        let type: EntryType
        switch entry {
        case .invoke(let record):
            type = .invoke
            try record.encode(to: encoder)
        case .ok(let record):
            type = .ok
            try record.encode(to: encoder)
        case .fail(let record):
            type = .fail
            try record.encode(to: encoder)
        case .info(let record):
            type = .info
            try record.encode(to: encoder)
        case .nemesis(let record):
            type = .nemesis
            try record.encode(to: encoder)
        case .final(let record):
            type = .final
            try record.encode(to: encoder)
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
    }
}
