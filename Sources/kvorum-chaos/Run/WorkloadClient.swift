import Foundation
import KvorumChaos
import KvorumContextToken
import KvorumCore

/// The keys the workloads use. `set` and `cart` keys take a bounded number
/// of writes each and then give way to the next key, so sibling sets and
/// carts stay small however long the run; `register` keys are few and fixed.
final class KeySpace: @unchecked Sendable {
    /// Writes a `set` or `cart` key takes before the next one is used.
    static let writesPerKey = 64
    static let registerKeys = 3

    private let lock = NSLock()
    private var writes: [Workload: Int] = [:]

    /// The key the next operation of `workload` uses (random among the fixed
    /// keys for `register`).
    func nextKey(_ workload: Workload, random: inout SplitMix64) -> String {
        switch workload {
        case .register:
            return "reg-\(Int.random(in: 0..<Self.registerKeys, using: &random))"
        case .set, .cart:
            lock.lock()
            defer { lock.unlock() }
            let count = writes[workload, default: 0]
            writes[workload] = count + 1
            return "\(workload.rawValue)-\(count / Self.writesPerKey)"
        }
    }

    /// Every key the workloads have used so far, with its workload.
    func usedKeys() -> [(key: String, workload: Workload)] {
        lock.lock()
        defer { lock.unlock() }
        var keys = (0..<Self.registerKeys).map { (key: "reg-\($0)", workload: Workload.register) }
        for workload in [Workload.set, .cart] {
            let count = writes[workload, default: 0]
            guard count > 0 else { continue }
            for index in 0...((count - 1) / Self.writesPerKey) {
                keys.append(("\(workload.rawValue)-\(index)", workload))
            }
        }
        return keys
    }
}

/// One client process of a fault run: a thread that runs one workload
/// against random nodes, each request with a short timeout, and records
/// every operation (invoke, then ok / fail / info) in the history.
///
/// - `set`: blind writes (no context) of unique values.
/// - `cart`: read a cart (r=2), add one unique item to the union of its
///   siblings' items, write it back with the read's context.
/// - `register`: read (r=2), write a unique value with the read's context.
final class WorkloadClient: @unchecked Sendable {
    let process: Int
    let workload: Workload
    private let nodes: [HostNode]
    private let recorder: HistoryRecorder
    private let keys: KeySpace
    private var random: SplitMix64
    private var apis: [String: NodeAPI] = [:]
    private let timeout: Double
    private var written = 0

    init(
        process: Int, workload: Workload, nodes: [HostNode], recorder: HistoryRecorder, keys: KeySpace, seed: UInt64,
        timeout: Double
    ) {
        self.process = process
        self.workload = workload
        self.nodes = nodes
        self.recorder = recorder
        self.keys = keys
        self.timeout = timeout
        random = SplitMix64(seed: seed &+ UInt64(process) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Runs operations until `shouldStop` says so, pausing 20–100 ms between
    /// them so that the run's load stays moderate on a small machine.
    func run(while shouldGoOn: () -> Bool) {
        while shouldGoOn() {
            operate()
            usleep(UInt32(Int.random(in: 20_000...100_000, using: &random)))
        }
    }

    private func operate() {
        let node = nodes[Int.random(in: 0..<nodes.count, using: &random)]
        let key = keys.nextKey(workload, random: &random)
        written += 1
        let unique = "\(workload.rawValue.prefix(1))\(process)-\(written)"
        switch workload {
        case .set:
            write(key: key, value: unique, item: nil, context: nil, at: node)
        case .cart:
            guard let read = read(key: key, at: node) else { return }
            let cart = CartMerge.union(read.values)
            let value = cart.isEmpty ? unique : cart + "," + unique
            write(key: key, value: value, item: unique, context: read.token, at: node)
        case .register:
            guard let read = read(key: key, at: node) else { return }
            write(key: key, value: unique, item: nil, context: read.token, at: node)
        }
    }

    private func api(for node: HostNode) -> NodeAPI {
        if let api = apis[node.host.name] { return api }
        let api = node.api(timeout: timeout)
        apis[node.host.name] = api
        return api
    }

    /// A quorum read; nil unless it completed ok (a 404 is an ok read of
    /// nothing). Returns the values and the context token to write back.
    private func read(key: String, at node: HostNode) -> (values: [String], token: String?)? {
        let record = OperationRecord(
            process: process, op: recorder.newOp(), time: recorder.now, workload: workload, f: .read, key: key,
            node: node.name)
        var token: String?
        let done = perform(record, api(for: node).get(key, r: 2)) { status, body, context, record in
            guard status == 200 || status == 404 else { return false }
            record.values = body["values"] as? [String] ?? []
            token = context.flatMap { $0.isEmpty ? nil : $0 }
            record.context = token.map(ContextToken.historyText)
            return true
        }
        return done.map { ($0.values ?? [], token) }
    }

    private func write(key: String, value: String, item: String?, context token: String?, at node: HostNode) {
        let record = OperationRecord(
            process: process, op: recorder.newOp(), time: recorder.now, workload: workload, f: .write, key: key,
            node: node.name, value: value, item: item, context: token.map(ContextToken.historyText))
        _ = perform(record, api(for: node).put(key, value: value, context: token, w: 2)) { status, body, _, record in
            guard status == 200 else { return false }
            record.metadata = (body["metadata"] as? String).map(ContextToken.historyText)
            return true
        }
    }

    /// Records `record` as invoked, makes the call, and records how it
    /// ended: ok when `accept` takes the answer (filling in what it
    /// returned), fail for any other answer, info when none came. Returns
    /// the completed record when it is ok.
    private func perform(
        _ record: OperationRecord, _ call: @autoclosure () -> NodeAPI.Answer,
        accept: (Int, [String: Any], String?, inout OperationRecord) -> Bool
    ) -> OperationRecord? {
        var record = record
        recorder.append(.invoke(record))
        let answer = call()
        record.time = recorder.now
        switch answer {
        case .answered(let status, let body, let context):
            if accept(status, body, context, &record) {
                recorder.append(.ok(record))
                return record
            }
            record.error = "HTTP \(status): \(body["error"] as? String ?? "")"
            recorder.append(.fail(record))
        case .noAnswer(let why):
            record.error = why
            recorder.append(.info(record))
        }
        return nil
    }
}
