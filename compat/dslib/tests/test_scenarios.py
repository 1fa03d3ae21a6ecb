"""The seed's ten acceptance scenarios (SPEC §4) through the bridge.

Real Kvorum executables (`$KVORUM_EXECUTABLE`, else the repo's build) run
behind `compat/dslib/node.py` in the fake harness, with the course harness's
timing: 0.1 s per message, timers in real time, 1 s for a client to get its
answer (10 s and 60 s where SPEC says so) and its event budgets.
"""

from __future__ import annotations

import random
import sys
import time
import unittest
from typing import Any

from harness import TestServer  # first: puts the fake dslib and the bridge on sys.path
from dslib import Message


class Scenario(unittest.TestCase):
    """A fresh cluster per test, spoken to in the seed's client API (SPEC §2)."""

    nodes = 6

    def setUp(self) -> None:
        self.started = time.monotonic()
        self.server = TestServer(self.nodes)
        self.addCleanup(self.server.close)
        self.names = self.server.names

    def tearDown(self) -> None:
        sys.stderr.write(f"[{time.monotonic() - self.started:.1f} s] ")
        self.assertEqual(self.server.errors, [])
        leftover = {name: list(replies) for name, replies in self.server.replies.items() if replies}
        self.assertEqual(leftover, {}, "replies nobody asked for (the harness would hand them to the next request)")

    def request(self, node: str, type: str, body: Any = None, timeout: float = 1.0) -> Message:
        self.server.send_local_message(node, Message(type, body))
        reply = self.server.step_until_local_message(node, timeout=timeout)
        if reply is None:
            self.fail(f"{type} {body!r} at {node}: no reply within {timeout} s")
        return reply

    def get(self, key: str, node: str, quorum: int, timeout: float = 1.0) -> tuple[list[str], list[str]]:
        """(values, metadata) of a GET."""
        reply = self.request(node, "GET", {"key": key, "quorum": quorum}, timeout)
        self.assertEqual(reply.type, "GET_RESP", f"GET {key} at {node}: {reply.body!r}")
        return reply.body["values"], reply.body["metadata"]

    def values(self, key: str, node: str, quorum: int) -> list[str]:
        return self.get(key, node, quorum)[0]

    def put(self, key: str, value: str, node: str, quorum: int, metadata: str | None = None,
            timeout: float = 1.0) -> str:
        """The metadata a PUT returns."""
        body: dict[str, Any] = {"key": key, "value": value, "quorum": quorum}
        if metadata is not None:
            body["metadata"] = metadata
        reply = self.request(node, "PUT", body, timeout)
        self.assertEqual(reply.type, "PUT_RESP", f"PUT {key} at {node}: {reply.body!r}")
        return reply.body

    def lookup(self, key: str, node: str = "node01") -> list[str]:
        """The names of the key's replicas, in preference order."""
        reply = self.request(node, "LOOKUP", key)
        self.assertEqual(reply.type, "LOOKUP_RESP")
        return [name for name, _ in reply.body]

    def non_replicas(self, key: str) -> list[str]:
        replicas = self.lookup(key)
        return [name for name in self.names if name not in replicas]

    def form(self, members: list[str] | None = None, via: str = "node01") -> None:
        """Every member JOINs through `via` (itself first); waits until all list all."""
        members = members or self.names
        for name in [via] + [name for name in members if name != via]:
            self.server.send_local_message(name, Message("JOIN", self.server.address[via]))
        self.await_members(members, members)

    def await_members(self, expected: list[str], at: list[str], events: int = 500) -> None:
        """Steps (10 at a time) until every node of `at` lists exactly `expected`."""
        budget = events
        while True:
            seen = {node: sorted(self.request(node, "GET_MEMBERS").body) for node in at}
            if all(members == sorted(expected) for members in seen.values()):
                return
            taken = self.server.steps(min(10, budget))
            budget -= taken
            if taken == 0:
                self.fail(f"membership did not settle on {sorted(expected)}: {seen}")

    def isolated_values(self, key: str, node: str) -> list[str]:
        """The values `node` holds itself: a q1 GET while it is cut off."""
        self.server.disconnect(node)
        values = self.values(key, node, 1)
        self.server.connect(node)
        return values


def random_keys(seed: int, count: int = 100) -> list[str]:
    rng = random.Random(seed)
    return [f"key-{rng.randrange(10**9)}" for _ in range(count)]


class SeedScenarios(Scenario):
    def test_01_basic(self) -> None:
        """An absent key reads as empty; a write reads back with its metadata at another
        replica and at a non-replica; a write with that metadata from the last
        non-replica supersedes it."""
        self.form()
        key = "basic-key"
        replicas = self.lookup(key)
        self.assertEqual(len(replicas), 3)
        others = self.non_replicas(key)
        self.assertEqual(self.get(key, "node01", 2), ([], []))
        m1 = self.put(key, "v1", replicas[0], 2)
        self.assertEqual(self.get(key, replicas[2], 2), (["v1"], [m1]))
        self.assertEqual(self.get(key, others[0], 2), (["v1"], [m1]))
        m2 = self.put(key, "v2", others[-1], 2, metadata=m1)
        self.assertEqual(self.get(key, others[-1], 2), (["v2"], [m2]))
        self.assertEqual(self.get(key, replicas[1], 2), (["v2"], [m2]))

    def test_02_replicas_check(self) -> None:
        """After a q3 write, every replica cut off from the network answers a q1 read itself."""
        self.form()
        key = "replicas-check"
        replicas = self.lookup(key)
        self.put(key, "value", replicas[0], 3)
        for replica in replicas:
            self.assertEqual(self.isolated_values(key, replica), ["value"], replica)

    def test_04_replicas_divergence(self) -> None:
        """Each replica, cut off in turn, takes a q1 write on the same version; after
        healing and 100 events a q3 read returns all three."""
        self.form()
        key = "divergence"
        replicas = self.lookup(key)
        m = self.put(key, "v", replicas[0], 3)
        written = set()
        for i, replica in enumerate(replicas, start=1):
            self.server.disconnect(replica)
            self.put(key, f"v-{i}", replica, 1, metadata=m)
            written.add(f"v-{i}")
        self.server.reset_network()
        self.server.steps(100)
        self.assertEqual(sorted(self.values(key, replicas[0], 3)), sorted(written))

    def test_05_sloppy_quorum(self) -> None:
        """With replica 1 cut off, a q3 write at replica 2 succeeds through a stand-in
        (within 10 s) and reads back at once; 30 events after replica 1 returns, the
        stand-in's hint has reached it."""
        self.form()
        key = "sloppy"
        r = self.lookup(key)
        m1 = self.put(key, "v1", "node01", 3)
        self.server.disconnect(r[0])
        self.put(key, "v2", r[1], 3, metadata=m1, timeout=10)
        self.assertEqual(self.values(key, r[1], 3), ["v2"])
        self.server.connect(r[0])
        self.server.steps(30)
        self.assertEqual(self.isolated_values(key, r[0]), ["v2"])

    def test_06_partitioned_client(self) -> None:
        """A non-replica partitioned from all three replicas takes a q2 write on
        stand-ins (within 60 s) and reads it back within a second."""
        self.form()
        key = "partitioned-client"
        replicas = self.lookup(key)
        others = self.non_replicas(key)
        self.server.partition(others, replicas)
        m = self.put(key, "value", others[0], 2, timeout=60)
        self.assertEqual(self.get(key, others[0], 2), (["value"], [m]))

    def test_07_partitioned_clients(self) -> None:
        """Read-modify-writes on both sides of a partition end, after healing and 100
        events, as two siblings seen identically by both clients and held by every replica."""
        self.form()
        key = "partitioned-clients"
        r = self.lookup(key)
        clients = self.non_replicas(key)
        self.put(key, "v", clients[0], 2)
        self.server.partition([clients[0], clients[1], r[0]], [clients[2], r[1], r[2]])
        self.read_modify_write(key, clients[0], lambda value: value + "1")
        self.read_modify_write(key, clients[1], lambda value: value + "2")
        self.assertEqual(self.values(key, clients[1], 2), ["v12"])
        self.read_modify_write(key, clients[2], lambda value: value + "3")
        self.assertEqual(self.values(key, clients[2], 2), ["v3"])
        self.server.reset_network()
        self.server.steps(100)
        values1, metadata1 = self.get(key, clients[0], 2)
        values2, metadata2 = self.get(key, clients[1], 2)
        self.assertEqual(sorted(values1), ["v12", "v3"])
        self.assertEqual(sorted(values2), ["v12", "v3"])
        self.assertEqual(set(metadata1), set(metadata2))
        for replica in r:
            self.assertEqual(sorted(self.isolated_values(key, replica)), ["v12", "v3"], replica)

    def test_08_shopping_cart(self) -> None:
        """The same partition with a cart: after healing and 100 events every read gives
        ONE value holding every item of both sides, the same string everywhere."""
        self.form()
        key = "cart-shopping"
        r = self.lookup(key)
        clients = self.non_replicas(key)
        self.put(key, "cheese,wine", clients[0], 2)
        self.server.partition([clients[0], clients[1], r[0]], [clients[2], r[1], r[2]])
        self.read_modify_write(key, clients[0], lambda cart: cart + ",milk")
        self.read_modify_write(key, clients[1], lambda cart: cart + ",eggs")
        self.read_modify_write(key, clients[2], lambda _: "snacks,beer")
        self.server.reset_network()
        self.server.steps(100)
        seen = [self.values(key, node, 2) for node in clients]
        seen += [self.isolated_values(key, replica) for replica in r]
        for values in seen:
            self.assertEqual(len(values), 1, seen)
            self.assertEqual(set(values[0].split(",")), {"cheese", "wine", "milk", "eggs", "snacks", "beer"})
        self.assertEqual(len({values[0] for values in seen}), 1, seen)

    def test_09_node_join(self) -> None:
        """node01 joins a five-node cluster through node02: all agree on six members,
        node01 reads with q3 a key written before, and it replicates some keys."""
        five = self.names[1:]
        self.form(five, via="node02")
        sample = random_keys(9)
        for key in sample:
            self.assertNotIn("node01", self.lookup(key, "node02"))
        key = "join-key"
        self.put(key, "value", "node02", 3)
        self.server.send_local_message("node01", Message("JOIN", self.server.address["node02"]))
        self.await_members(self.names, self.names)
        self.assertEqual(self.values(key, "node01", 3), ["value"])
        self.assertTrue(any("node01" in self.lookup(key, "node01") for key in sample))
        self.assertTrue(any("node01" in self.lookup(key, "node04") for key in sample))

    def test_10_node_leave(self) -> None:
        """A replica of a written key LEAVEs: the other five agree on membership, no
        LOOKUP names it, and the key still reads with q3."""
        self.form()
        key = "leave-key"
        leaver = self.lookup(key)[0]
        rest = [name for name in self.names if name != leaver]
        self.put(key, "value", "node01", 2)
        self.server.send_local_message(leaver, Message("LEAVE"))
        self.await_members(rest, rest)
        for node in rest:
            self.assertNotIn(leaver, self.lookup(key, node))
        for sample in random_keys(10):
            self.assertNotIn(leaver, self.lookup(sample, rest[0]))
        self.assertEqual(self.values(key, rest[0], 3), ["value"])

    def read_modify_write(self, key: str, node: str, change: Any) -> None:
        """Reads one value (q2), writes `change(value)` back with its metadata (q2)."""
        values, metadata = self.get(key, node, 2)
        self.assertEqual(len(values), 1, f"read at {node}: {values}")
        self.put(key, change(values[0]), node, 2, metadata=metadata[0])


class ThreeNodeScenarios(Scenario):
    nodes = 3

    def test_03_stale_replica(self) -> None:
        """A replica that missed a write reads the newer version through a q2 quorum;
        50 events later read repair has left it in its own store."""
        self.form()
        key = "stale-replica"
        r = self.lookup(key)
        m1 = self.put(key, "v1", r[0], 3)
        self.server.disconnect(r[2])
        self.put(key, "v2", r[0], 2, metadata=m1)
        self.server.disconnect(r[0])
        self.server.connect(r[2])
        self.assertEqual(self.values(key, r[2], 2), ["v2"])
        self.server.steps(50)
        self.server.disconnect(r[2])
        self.assertEqual(self.values(key, r[2], 1), ["v2"])


if __name__ == "__main__":
    unittest.main()
