import KvorumCore

/// What the state checks read: the paired operations, the writes, the fault
/// windows and the final copies.
struct CheckInput {
    var operations: [Operation]
    var catalog: WriteCatalog
    var timeline: FaultTimeline
    var final: FinalState

    /// Every dot each value of `key` was seen under: its acknowledgement and
    /// every dotted final version holding it, with where each was seen.
    func executions(at key: String) -> [String: [Dot: Set<String>]] {
        var seen: [String: [Dot: Set<String>]] = [:]
        for write in catalog.writes(at: key) {
            if let dot = write.acknowledgedDot { seen[write.value, default: [:]][dot, default: []].insert("ack") }
        }
        for copy in final.copies(of: key) {
            for version in copy.versions {
                guard let dot = version.dot else { continue }
                seen[version.value, default: [:]][dot, default: []].insert(copy.node)
            }
        }
        return seen
    }

    /// The faults active during any of `operations`, in start order.
    func faults(during operations: [Operation]) -> [FaultWindow] {
        var windows: [FaultWindow] = []
        for operation in operations {
            for window in timeline.overlapping(operation) where !windows.contains(window) {
                windows.append(window)
            }
        }
        return windows.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
    }
}

/// Lost writes: an acknowledged (`ok`) write missing at a replica of its key
/// in the final state. `fail` and `info` writes may or may not have been
/// applied (a node that answers 503 may still apply the write), so they are
/// never required.
///
/// - set and register: the replica holds the write's value (under any dot: a
///   dot other than the acknowledged one is a duplicate execution, reported
///   apart), or the write was superseded there: the replica holds a version
///   whose history covers the acknowledged dot and that is the version of a
///   client write whose *sent* context covers that dot (its client read the
///   lost write and chose to replace it), or a merged version of a merging
///   (`cart…`) key. The superseding write may have any outcome: a `fail` or
///   `info` write present in the final state was applied, and its client's
///   context is as deliberate as an acknowledged one's. Requiring the client's
///   context, not only the stored version's history, catches a node that
///   invents causality. It need not be "later" in time: a context covers only
///   dots that existed when it was read. Supersession chains need no
///   transitive search: a client that read the superseding version read its
///   history too, so its context covers every dot that version covered.
/// - cart: the write's unique item is in the union of the items of the
///   replica's siblings (a cart never removes items).
enum LostWriteCheck {
    static func run(_ input: CheckInput) -> [Violation] {
        var found: [Violation] = []
        for write in input.catalog.writes where write.operation.outcome == .ok {
            guard let dot = write.acknowledgedDot else { continue }
            let copies = input.final.replicaCopies(of: write.key)
            let missing: [FinalCopy]
            if write.operation.invoke.workload == .cart {
                guard let item = write.item else { continue }
                missing = copies.filter { !$0.items.contains(item) }
            } else {
                missing = copies.filter { !isKept(write, dot, in: $0, input.catalog) }
            }
            guard !missing.isEmpty else { continue }
            let held = missing.map { "\($0.node) holds \($0.summary)" }.joined(separator: "; ")
            let what = write.operation.invoke.workload == .cart ? "its item" : "it"
            found.append(
                Violation(
                    kind: .lostWrite, key: write.key, value: write.value, item: write.item, op: write.op,
                    nodes: missing.map(\.node), faults: input.faults(during: [write.operation]),
                    detail:
                        "acknowledged at \(seconds(write.operation.end)) s as \(VersionText.text(dot)), and no "
                        + "write whose client read \(what) superseded it: \(held)"))
        }
        return found
    }

    private static func isKept(_ write: Write, _ dot: Dot, in copy: FinalCopy, _ catalog: WriteCatalog) -> Bool {
        if copy.values.contains(write.value) { return true }
        return copy.versions.contains { version in
            guard version.history.covers(dot) else { return false }
            guard version.dot != nil else { return MergePolicy.forKey(Key(write.key)) != .keepAll }
            return catalog.write(of: version.value, at: write.key)?.context.covers(dot) ?? false
        }
    }
}

/// False siblings: two versions held together at any node (replica or not)
/// whose writes are causally ordered: the client of one write sent a context
/// covering a dot the other write was executed under (its acknowledged dot,
/// or the dot of any final version holding its value). Such a pair must
/// never be siblings: the later client explicitly replaced the earlier
/// value. Counting every execution's dot catches a write executed twice,
/// whose second execution, under a dot nobody read, comes back beside the
/// write that replaced the first. Versions whose value no client wrote, and
/// merged versions, are left to the phantom check.
enum FalseSiblingCheck {
    static func run(_ input: CheckInput) -> [Violation] {
        var found: [Violation] = []
        for key in input.final.keys {
            let dotsByValue = input.executions(at: key).mapValues { $0.keys.sorted(by: Self.precedes) }
            var nodesByPair: [Pair: [String]] = [:]
            var pairs: [Pair] = []
            for copy in input.final.copies(of: key) {
                let written = copy.versions.compactMap { version in
                    version.dot == nil ? nil : input.catalog.write(of: version.value, at: key).map { (version, $0) }
                }
                // A blind write supersedes nothing: only writes sent with a context can be misplaced beside
                // what they replaced, which keeps this quadratic loop short for the set workload.
                for (newer, replacing) in written where !replacing.context.isEmpty {
                    for (older, replaced) in written where older.value != newer.value {
                        guard let dot = dotsByValue[older.value]?.first(where: replacing.context.covers) else {
                            continue
                        }
                        let pair = Pair(
                            older: older, newer: newer, replaced: replaced.op, replacing: replacing.op, dot: dot)
                        if nodesByPair[pair] == nil { pairs.append(pair) }
                        nodesByPair[pair, default: []].append(copy.node)
                    }
                }
            }
            for pair in pairs {
                let replaced = input.catalog.write(of: pair.older.value, at: key)!
                let replacing = input.catalog.write(of: pair.newer.value, at: key)!
                found.append(
                    Violation(
                        kind: .falseSibling, key: key, value: pair.older.value, op: pair.replaced,
                        otherOp: pair.replacing, nodes: nodesByPair[pair]!,
                        faults: input.faults(during: [replaced.operation, replacing.operation]),
                        detail:
                            "\"\(pair.older.value)\"@\(pair.older.metadata) (op \(pair.replaced)) is kept beside "
                            + "\"\(pair.newer.value)\"@\(pair.newer.metadata), whose write (op \(pair.replacing)) "
                            + "sent context \"\(replacing.operation.invoke.context ?? "")\" covering "
                            + "\(VersionText.text(pair.dot)), a dot of \"\(pair.older.value)\""))
            }
        }
        return found
    }

    private struct Pair: Hashable {
        var older: FinalVersion
        var newer: FinalVersion
        var replaced: Int
        var replacing: Int
        var dot: Dot
    }

    static func precedes(_ a: Dot, _ b: Dot) -> Bool {
        a.actor == b.actor ? a.counter < b.counter : byteOrder(a.actor, b.actor)
    }
}

/// At most once, and one value per dot. Every written value is unique, so
/// a value seen under two different dots (its acknowledgement's and the
/// final versions') was executed twice: a *duplicate execution*. A dot
/// seen with two different values names two writes: a *reused dot* (a
/// coordinator that forgot its counter). Merged versions carry no dot and
/// are not judged.
enum ExecutionCheck {
    static func run(_ input: CheckInput) -> [Violation] {
        var found: [Violation] = []
        for key in keys(input) {
            let executions = input.executions(at: key)
            var valuesByDot: [Dot: [String]] = [:]
            for (value, dots) in executions {
                for dot in dots.keys { valuesByDot[dot, default: []].append(value) }
            }
            for write in input.catalog.writes(at: key).sorted(by: { $0.op < $1.op }) {
                guard let dots = executions[write.value], dots.count > 1 else { continue }
                let places = dots.keys.sorted(by: FalseSiblingCheck.precedes).map { dot in
                    VersionText.text(dot) + " (" + dots[dot]!.sorted(by: byteOrder).joined(separator: " ") + ")"
                }
                found.append(
                    Violation(
                        kind: .duplicateExecution, key: key, value: write.value, item: write.item, op: write.op,
                        nodes: Set(dots.values.flatMap { $0 }).subtracting(["ack"]).sorted(by: byteOrder),
                        faults: input.faults(during: [write.operation]),
                        detail: "written once (op \(write.op)) but found under \(dots.count) dots: "
                            + places.joined(separator: ", ")))
            }
            for dot in valuesByDot.keys.sorted(by: FalseSiblingCheck.precedes) where valuesByDot[dot]!.count > 1 {
                let values = valuesByDot[dot]!.sorted(by: byteOrder)
                let writes = values.compactMap { input.catalog.write(of: $0, at: key) }.sorted { $0.op < $1.op }
                found.append(
                    Violation(
                        kind: .dotReuse, key: key, op: writes.first?.op, otherOp: writes.dropFirst().first?.op,
                        faults: input.faults(during: writes.map(\.operation)),
                        detail: "dot \(VersionText.text(dot)) names "
                            + values.map { "\"\($0)\"" }.joined(separator: " and ")))
            }
        }
        return found
    }

    private static func keys(_ input: CheckInput) -> [String] {
        Set(input.catalog.writes.map(\.key)).union(input.final.keys).sorted(by: byteOrder)
    }
}

/// Phantoms: a value no client wrote to the key, in a final copy (any node)
/// or in an `ok` read. For carts (workload `cart`) every item must have been
/// added by some write to the key (as its `item`, of any outcome); for other keys every value must be the
/// value of a write to the key (of any outcome), and a final version must
/// have a dot (a merged version at a key that never merges was made up).
enum PhantomCheck {
    static func run(_ input: CheckInput) -> [Violation] {
        var found: [Found] = []
        for key in input.final.keys {
            for copy in input.final.copies(of: key) {
                for version in copy.versions {
                    for phantom in phantoms(version.value, copy.workload, key, input.catalog) {
                        note(&found, key, phantom, node: copy.node, op: nil)
                    }
                    if copy.workload != .cart, version.dot == nil {
                        note(&found, key, .merged(version.value), node: copy.node, op: nil)
                    }
                }
            }
        }
        // Reads of a key often return the same value; a cart's value grows
        // with every write, so each distinct clean value is split only once.
        var clean: [String: Set<String>] = [:]
        for operation in input.operations where operation.outcome == .ok && operation.invoke.f == .read {
            for value in operation.completion?.values ?? [] where !(clean[operation.key]?.contains(value) ?? false) {
                let unknown = phantoms(value, operation.invoke.workload, operation.key, input.catalog)
                if unknown.isEmpty { clean[operation.key, default: []].insert(value) }
                for phantom in unknown {
                    note(&found, operation.key, phantom, node: operation.invoke.node, op: operation)
                }
            }
        }
        return found.map { violation($0, input) }
    }

    private static func violation(_ entry: Found, _ input: CheckInput) -> Violation {
        let seen = entry.op.map { "read by op \($0.op)" } ?? "in the final state"
        var violation = Violation(
            kind: .phantom, key: entry.key, op: entry.op?.op, nodes: entry.nodes,
            faults: entry.op.map { input.faults(during: [$0]) } ?? [], detail: "")
        switch entry.phantom {
        case .value(let value):
            violation.value = value
            violation.detail = "no client wrote this value to \(entry.key); seen \(seen)"
        case .item(let item):
            violation.item = item
            violation.detail = "no client added this item to \(entry.key); seen \(seen)"
        case .merged(let value):
            violation.value = value
            violation.detail = "a merged version (no dot) at a key that never merges; seen \(seen)"
        }
        return violation
    }

    private enum Phantom: Hashable {
        case value(String)
        case item(String)
        case merged(String)
    }

    private struct Found {
        var key: String
        var phantom: Phantom
        var nodes: [String]
        var op: Operation?
    }

    private static func phantoms(_ value: String, _ workload: Workload, _ key: String, _ catalog: WriteCatalog)
        -> [Phantom]
    {
        guard workload == .cart else {
            return catalog.write(of: value, at: key) == nil ? [.value(value)] : []
        }
        return CartMerge.items(value).filter { !catalog.wasAdded(item: $0, at: key) }.map(Phantom.item)
    }

    private static func note(_ found: inout [Found], _ key: String, _ phantom: Phantom, node: String, op: Operation?) {
        if let index = found.firstIndex(where: { $0.key == key && $0.phantom == phantom }) {
            if !found[index].nodes.contains(node) { found[index].nodes.append(node) }
            if found[index].op == nil { found[index].op = op }
        } else {
            found.append(Found(key: key, phantom: phantom, nodes: [node], op: op))
        }
    }
}

/// Divergence: after the heal and convergence, every replica of a key (in
/// the final ring) holds the same versions: equal values with equal
/// metadata. Non-replicas are not compared (a stand-in may keep or drop what
/// it held for others).
enum DivergenceCheck {
    static func run(_ input: CheckInput) -> [Violation] {
        input.final.keys.compactMap { key in
            let copies = input.final.replicaCopies(of: key)
            guard let first = copies.first, copies.contains(where: { $0.signature != first.signature }) else {
                return nil
            }
            return Violation(
                kind: .divergence, key: key, nodes: copies.map(\.node),
                detail: "replicas differ: " + copies.map { "\($0.node) holds \($0.summary)" }.joined(separator: "; "))
        }
    }
}

/// Every key a client wrote to must have a final record from at least one
/// of its replicas; otherwise nothing about it can be checked, and the
/// history is reported as malformed rather than passed.
enum CompletenessCheck {
    static func run(_ input: CheckInput) -> [Violation] {
        Set(input.catalog.writes.map(\.key)).sorted(by: byteOrder).compactMap { key in
            guard input.final.replicaCopies(of: key).isEmpty else { return nil }
            return Violation(
                kind: .malformed, key: key, detail: "written to, but no replica's final record of the key")
        }
    }
}
