import KvorumChaos
import KvorumCore

/// Writes synthetic histories the way a fault run records them, with real
/// versions: a write executed at a node gets the next dot of that node's
/// actor for the key and the context it was sent as its past, and is added to the key's
/// `SiblingSet` under the key's merge policy, exactly as a coordinator and a
/// converged cluster would store it. The final records are read off those
/// sets, so their metadata strings are KvorumCore's own.
struct HistoryScript {
    private(set) var entries: [HistoryEntry] = []
    /// In steps of 0.05 s: each operation takes one step, and the next
    /// operation or fault starts two steps after the last one started.
    private var step = 0
    private var nextOp = 1
    private var stores: [String: SiblingSet] = [:]

    /// What a converged cluster holds for `key`.
    func stored(_ key: String) -> SiblingSet { stores[key] ?? SiblingSet() }

    /// `stored(key)` without the versions of `values`: a replica that missed them.
    func stored(_ key: String, without values: [String]) -> SiblingSet {
        SiblingSet(stored(key).versions.filter { !values.contains($0.value) }, policy: MergePolicy.forKey(Key(key)))
    }

    /// The past a node stores for a write: the context sent, or (a buggy
    /// node) another one.
    enum StoredPast {
        case asSent
        case instead(String?)
    }

    /// A client write, invoked now and completed 0.05 s later. It is executed
    /// by `executedAt` (an actor such as `n1.1`; nil: never applied), which
    /// stores the context sent as the version's past unless `storedPast` says
    /// otherwise. Returns the version it made.
    @discardableResult
    mutating func write(
        _ workload: Workload, _ key: String, _ value: String, item: String? = nil, context: String? = nil,
        node: String = "n1", outcome: Outcome = .ok, executedAt actor: String? = "n1.1",
        storedPast: StoredPast = .asSent, process: Int = 1
    ) -> Version? {
        let op = nextOp
        nextOp += 1
        var record = OperationRecord(
            process: process, op: op, time: time(step), workload: workload, f: .write, key: key, node: node,
            value: value,
            item: item, context: context)
        entries.append(.invoke(record))
        let past: String?
        switch storedPast {
        case .asSent: past = context
        case .instead(let other): past = other
        }
        let version = actor.map { execute(key, value, context: past, at: $0) }
        record.time = time(step + 1)
        complete(&record, outcome) { $0.metadata = version?.metadata }
        step += 2
        return version
    }

    /// A write executed again, later, by another node (a late duplicate of a
    /// forwarded request): no client record, only a second version.
    @discardableResult
    mutating func reexecute(_ key: String, _ value: String, context: String?, at actor: String) -> Version {
        execute(key, value, context: context, at: actor)
    }

    /// A client read of what the cluster holds now; returns the context read.
    @discardableResult
    mutating func read(
        _ workload: Workload, _ key: String, node: String = "n1", outcome: Outcome = .ok, values: [String]? = nil,
        process: Int = 1
    ) -> String {
        let op = nextOp
        nextOp += 1
        var record = OperationRecord(
            process: process, op: op, time: time(step), workload: workload, f: .read, key: key, node: node)
        entries.append(.invoke(record))
        let siblings = stored(key)
        let context = Metadata.encode(siblings.context)
        record.time = time(step + 1)
        complete(&record, outcome) {
            $0.values = values ?? siblings.values
            $0.context = context
        }
        step += 2
        return context
    }

    mutating func startFault(_ fault: FaultKind, id: Int, detail: String = "") {
        entries.append(.nemesis(NemesisRecord(time: time(step), phase: .start, fault: fault, id: id, detail: detail)))
        step += 2
    }

    mutating func stopFault(_ fault: FaultKind, id: Int, detail: String = "") {
        entries.append(.nemesis(NemesisRecord(time: time(step), phase: .stop, fault: fault, id: id, detail: detail)))
        step += 2
    }

    /// Final records of `key` at its `replicas` and at `others`, each holding
    /// what the cluster holds unless `holding` says otherwise for that node.
    mutating func finals(
        _ workload: Workload, _ key: String, replicas: [String] = ["n1", "n2", "n3"], others: [String] = ["n4"],
        holding: [String: SiblingSet] = [:]
    ) {
        for node in replicas + others {
            let siblings = holding[node] ?? stored(key)
            entries.append(
                .final(
                    FinalRecord(
                        key: key, workload: workload, node: node, replica: replicas.contains(node),
                        values: siblings.values, metadata: siblings.metadata)))
        }
    }

    mutating func append(_ entry: HistoryEntry) {
        entries.append(entry)
    }

    private func time(_ step: Int) -> Double {
        Double(step) / 20
    }

    private mutating func execute(_ key: String, _ value: String, context: String?, at actor: String) -> Version {
        let past = context.map { try! Metadata.context(from: $0) } ?? VersionVector()
        let dot = Dot(actor: actor, counter: stored(key).maxCounter(of: actor) + 1)
        let version = Version(dot: dot, past: past, value: value)
        stores[key, default: SiblingSet()].add([version], policy: MergePolicy.forKey(Key(key)))
        return version
    }

    private mutating func complete(
        _ record: inout OperationRecord, _ outcome: Outcome, ok: (inout OperationRecord) -> Void
    ) {
        switch outcome {
        case .ok:
            ok(&record)
            entries.append(.ok(record))
        case .fail:
            record.error = "503: quorum not reached (1 of 2 replicas answered); it may still be applied"
            entries.append(.fail(record))
        case .info:
            record.error = "timeout after 1.000 s"
            entries.append(.info(record))
        case .unfinished:
            break
        }
    }
}
