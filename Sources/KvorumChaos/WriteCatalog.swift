import KvorumCore

/// A client write as the checks see it: what was sent, how it ended, and the
/// dot it was acknowledged with.
struct Write {
    var operation: Operation
    /// The causal context the client sent (empty for a blind write): the
    /// writes it supersedes are exactly those whose dots this covers.
    var context: VersionVector
    /// The dot of the acknowledged version (`ok` writes only).
    var acknowledgedDot: Dot?

    var op: Int { operation.op }
    var key: String { operation.key }
    var value: String { operation.invoke.value ?? "" }
    var item: String? { operation.invoke.item }
}

/// Every client write of the run, found by key and value (values are unique
/// per run, so a stored version leads back to the write that made it) and,
/// for carts, by key and item.
///
/// Reported as malformed: a write without a value, a value or cart item
/// written twice to a key, a cart write without its item, a context or an
/// acknowledged metadata string that does not parse or has no dot.
struct WriteCatalog {
    private(set) var problems: [Violation] = []
    /// Every write, ordered by op.
    private(set) var writes: [Write] = []
    private var byValue: [String: [String: Write]] = [:]
    private var byItem: [String: [String: Int]] = [:]

    init(_ operations: [Operation]) {
        for operation in operations where operation.isWrite {
            add(operation)
        }
        writes = byValue.values.flatMap(\.values).sorted { $0.op < $1.op }
    }

    /// The write of `value` to `key`, of any outcome.
    func write(of value: String, at key: String) -> Write? {
        byValue[key]?[value]
    }

    /// Every write to `key`, of any outcome.
    func writes(at key: String) -> Dictionary<String, Write>.Values {
        (byValue[key] ?? [:]).values
    }

    /// Whether some cart write to `key` added `item` (a cart write's list
    /// holds the items it read and its own, so every legitimate item is some
    /// write's own).
    func wasAdded(item: String, at key: String) -> Bool {
        byItem[key]?[item] != nil
    }

    private mutating func add(_ operation: Operation) {
        let invoke = operation.invoke
        guard let value = invoke.value else {
            report(operation, "write op \(invoke.op) has no value")
            return
        }
        if let other = byValue[invoke.key]?[value] {
            report(operation, "value \"\(value)\" is written to \(invoke.key) twice (ops \(other.op) and \(invoke.op))")
            return
        }
        var context = VersionVector()
        do throws(Metadata.ParseError) {
            context = try invoke.context.map(Metadata.context(from:)) ?? VersionVector()
        } catch {
            report(operation, "write op \(invoke.op) sent context \"\(invoke.context ?? "")\": \(error)")
        }
        var dot: Dot?
        if operation.outcome == .ok, let metadata = operation.completion?.metadata {
            do throws(VersionText.ParseError) {
                dot = try VersionText.dot(of: metadata)
                if dot == nil {
                    report(operation, "write op \(invoke.op) is ok with metadata \"\(metadata)\" without a dot")
                }
            } catch {
                report(operation, "write op \(invoke.op) is ok with metadata \"\(metadata)\": \(error)")
            }
        }
        byValue[invoke.key, default: [:]][value] = Write(operation: operation, context: context, acknowledgedDot: dot)
        guard invoke.workload == .cart else { return }
        guard let item = invoke.item else {
            report(operation, "cart write op \(invoke.op) does not name the item it adds")
            return
        }
        if let other = byItem[invoke.key]?[item] {
            report(operation, "item \"\(item)\" is added to \(invoke.key) twice (ops \(other) and \(invoke.op))")
        } else {
            byItem[invoke.key, default: [:]][item] = invoke.op
        }
    }

    private mutating func report(_ operation: Operation, _ detail: String) {
        problems.append(
            Violation(
                kind: .malformed, key: operation.key, value: operation.invoke.value, item: operation.invoke.item,
                op: operation.op, detail: detail))
    }
}

/// Reading versions' metadata strings with KvorumCore's codec (`Metadata`):
/// `DOT|PAST`, the dot empty for a merged version.
enum VersionText {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// The dot of a version's metadata, nil for a merged version. Text
    /// without `|` is a bare context, not a version's metadata.
    static func dot(of metadata: String) throws(ParseError) -> Dot? {
        guard let bar = metadata.firstIndex(of: "|") else { throw ParseError(description: "metadata has no '|'") }
        guard bar != metadata.startIndex else { return nil }
        do throws(Metadata.ParseError) {
            // The dot alone, as the metadata of a version with an empty past.
            let event = try Metadata.context(from: String(metadata[..<bar]) + "|")
            if let dot = event.dots.first { return dot }
            return event.actors.first.map { Dot(actor: $0, counter: event[$0]) }
        } catch {
            throw ParseError(description: error.description)
        }
    }

    /// Everything a version has seen, itself included: its past plus its dot.
    static func history(of metadata: String) throws(ParseError) -> VersionVector {
        do throws(Metadata.ParseError) {
            return try Metadata.context(from: metadata)
        } catch {
            throw ParseError(description: error.description)
        }
    }

    /// `actor:counter`.
    static func text(_ dot: Dot) -> String { "\(dot.actor):\(dot.counter)" }
}
