import KvorumCore
import KvorumSimulation
import Testing

/// `xcart` keys in the seed's partition scenarios (SPEC §4 scenario 8 and
/// issue 5 part 4): an observed-remove cart keeps removed items removed and
/// concurrent adds, under the harness's timing and 20 random-delay seeds.
@Suite("XCart scenarios")
struct XCartScenarioTests {
    /// The seed's shopping cart with an `xcart` key: side 2 overwrites the
    /// cart with `snacks,beer` using its read metadata (removing `cheese` and
    /// `wine`) while side 1 adds `milk` and `eggs`. After healing, every GET
    /// returns ONE value whose items are exactly milk, eggs, snacks and beer
    /// (`cheese` and `wine` stay removed), the same string at every node and at
    /// every replica cut off and read locally.
    @Test(arguments: Timing.all)
    func shoppingCartRemovalStaysRemoved(timing: Timing) {
        cartScript(key: "xcart-shopping", timing: timing, expected: ["milk", "eggs", "snacks", "beer"])
    }

    /// The same script with a plain `cart` key: the union merge brings the
    /// removed `cheese` and `wine` back (the Dynamo cart's known anomaly,
    /// which `xcart` keys exist to avoid).
    @Test(arguments: Timing.all)
    func plainCartResurrectsRemovedItems(timing: Timing) {
        cartScript(
            key: "cart-shopping-overwrite", timing: timing,
            expected: ["cheese", "wine", "milk", "eggs", "snacks", "beer"])
    }

    /// Concurrent add and remove of the same item: the cart holds `bread`;
    /// during a partition side 1 adds `jam`, while side 2 adds `jam` and then
    /// removes it. Side 2's removal only covers the add it saw, so after
    /// healing `jam` is present (add wins): every GET and every cut-off
    /// replica returns the one value `bread,jam`.
    @Test(arguments: Timing.all)
    func concurrentAddWinsOverRemove(timing: Timing) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let key = "xcart-add-wins"
        let r = c.replicas(of: key)
        let clients = c.nonReplicas(of: key)
        guard c.put(key, "bread", at: clients[0], quorum: 2) != nil else { return }
        c.sim.partition([clients[0], clients[1], r[0]], [clients[2], r[1], r[2]])
        guard readModifyWrite(c, key, at: clients[0], { $0 + ",jam" }),
            readModifyWrite(c, key, at: clients[2], { $0 + ",jam" }),
            readModifyWrite(c, key, at: clients[2], { _ in "bread" })
        else { return }
        #expect(c.get(key, at: clients[2], quorum: 2)?.values == ["bread"], "side 2 removed jam")
        c.sim.resetNetwork()
        c.sim.run(events: 100)
        expectOneValue(c, key, nodes: c.names, replicas: r, items: ["bread", "jam"])
    }

    /// Issue 11 §7: two clients read the cart `cheese,wine` with the same
    /// context; one writes `cheese` (removing wine), the other writes
    /// `cheese,wine` (keeping it), one after the other, through the same
    /// coordinator or through a second replica that has the first write's
    /// copy. In either arrival order the cart ends as `cheese` everywhere: the
    /// keeping write keeps the add its client saw, which the removal deleted.
    @Test(arguments: Timing.all)
    func removeAndKeepFromOneContextInEitherOrder(timing: Timing) {
        var finals: [String] = []
        for (removeFirst, secondAt) in [(true, 0), (false, 0), (true, 1), (false, 1)] {
            let c = Cluster(nodes: 5, timing: timing)
            c.form()
            let key = "xcart-order"
            let r = c.replicas(of: key)
            let clients = c.nonReplicas(of: key)
            guard c.put(key, "cheese,wine", at: r[0], quorum: 2) != nil,
                let remover = c.get(key, at: clients[0], quorum: 2),
                let keeper = c.get(key, at: clients[1], quorum: 2),
                remover.metadata.count == 1, keeper.metadata == remover.metadata
            else {
                c.fail("both clients must read one version with the same context")
                return
            }
            let writes = [("cheese", remover.metadata[0]), ("cheese,wine", keeper.metadata[0])]
            for (index, (value, context)) in (removeFirst ? writes : writes.reversed()).enumerated() {
                let coordinator = r[index == 0 ? 0 : secondAt]
                guard c.put(key, value, at: coordinator, quorum: 3, metadata: context) != nil else { return }
            }
            c.sim.run(events: 100)
            expectOneValue(c, key, nodes: c.names, replicas: r, items: ["cheese"])
            finals += c.get(key, at: clients[0], quorum: 3)?.values ?? []
        }
        #expect(finals == Array(repeating: "cheese", count: 4), "remove or keep first, at one or two coordinators")
    }

    /// The shopping-cart script of scenario 8 with side 2 overwriting, then
    /// the checks: one value with exactly `expected`, the same string everywhere.
    private func cartScript(key: String, timing: Timing, expected: Set<String>) {
        let c = Cluster(nodes: 6, timing: timing)
        c.form()
        let r = c.replicas(of: key)
        let clients = c.nonReplicas(of: key)
        guard c.put(key, "cheese,wine", at: clients[0], quorum: 2) != nil else { return }
        c.sim.partition([clients[0], clients[1], r[0]], [clients[2], r[1], r[2]])
        guard readModifyWrite(c, key, at: clients[0], { $0 + ",milk" }),
            readModifyWrite(c, key, at: clients[1], { $0 + ",eggs" }),
            readModifyWrite(c, key, at: clients[2], { _ in "snacks,beer" })
        else { return }
        c.sim.resetNetwork()
        c.sim.run(events: 100)
        expectOneValue(c, key, nodes: c.names, replicas: r, items: expected)
    }

    /// Reads one value (q2) at `node` and writes `change(value)` back with its metadata (q2).
    private func readModifyWrite(_ c: Cluster, _ key: String, at node: String, _ change: (String) -> String) -> Bool {
        guard let read = c.get(key, at: node, quorum: 2), read.values.count == 1 else {
            c.fail("cart read at \(node) expected one value")
            return false
        }
        return c.put(key, change(read.values[0]), at: node, quorum: 2, metadata: read.metadata[0]) != nil
    }

    /// Every node's GET (q2) and every replica's local GET (q1, cut off)
    /// returns one value with exactly `items`, the same string everywhere.
    private func expectOneValue(
        _ c: Cluster, _ key: String, nodes: [String], replicas: [String], items: Set<String>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        var strings: Set<String> = []
        for node in nodes {
            let result = c.get(key, at: node, quorum: 2, sourceLocation: sourceLocation)
            #expect(result?.values.count == 1, "at \(node): \(result?.values ?? [])", sourceLocation: sourceLocation)
            if let value = result?.values.first {
                #expect(Set(CartMerge.items(value)) == items, "at \(node)", sourceLocation: sourceLocation)
                strings.insert(value)
            }
        }
        for replica in replicas {
            c.sim.disconnect(replica)
            let result = c.get(key, at: replica, quorum: 1, sourceLocation: sourceLocation)
            #expect(
                result?.values.count == 1, "replica \(replica): \(result?.values ?? [])",
                sourceLocation: sourceLocation)
            if let value = result?.values.first {
                #expect(Set(CartMerge.items(value)) == items, "replica \(replica)", sourceLocation: sourceLocation)
                strings.insert(value)
            }
            c.sim.connect(replica)
        }
        #expect(strings.count == 1, "one merged string everywhere: \(strings)", sourceLocation: sourceLocation)
    }
}
