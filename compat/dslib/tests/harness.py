"""A test double of the course's test server, for the bridge's tests only.

It drives bridge nodes (`compat/dslib/node.py`) in-process and schedules as
COMPAT-dslib.md, "How the test server schedules", describes: pending events
are peer messages (due 0.1 s after sending, at once to oneself) and timers
(due after their interval); each step takes the earliest, sleeps until its
due time and delivers it; drops are decided at delivery. Client messages are
delivered at once. Callbacks come on two threads, as in the real harness:
client messages and timers on the caller's, peer messages on a thread of
their own. The `ctx` of a callback behaves like the real one: setting a
pending timer name adds a second timer (both fire), cancelling a name that is
not pending raises `KeyError`, and it refuses use after its callback.

Time runs `KVORUM_FAKE_HARNESS_SPEED` times faster than the wall clock
(default 1.0, real time); the nodes get the same scaled clock, so every
interval and timeout here is in harness seconds. `KVORUM_HARNESS_DEBUG=1`
logs every delivery and, through the bridge, every event and effects line.
"""

from __future__ import annotations

import faulthandler
import heapq
import itertools
import json
import logging
import os
import sys
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE / "fake"), str(HERE.parent)]

from dslib import Message, Process  # noqa: E402  (the fake, from tests/fake)
import node as bridge  # noqa: E402  (compat/dslib/node.py)

MESSAGE_DELAY = 0.1
WATCHDOG = 120.0
"""Seconds one server may live before the process dumps every thread's stack and exits."""

log = logging.getLogger("kvorum.harness")
logging.basicConfig(
    stream=sys.stderr,
    level=logging.DEBUG if os.environ.get("KVORUM_HARNESS_DEBUG") else logging.WARNING,
    format="%(relativeCreated)9.0f ms %(message)s",
)


def copy_message(msg: Message, sender: str | None = None) -> Message:
    """A copy as if sent over the wire: the body must be JSON."""
    copy = Message(msg.type, json.loads(json.dumps(msg.body)))
    copy.sender = sender
    return copy


@dataclass(order=True)
class Pending:
    """A message or timer waiting for its due time (ordered by due, then sequence)."""

    due: float
    sequence: int
    node: str = field(compare=False)
    """The receiver of a message, the owner of a timer."""
    message: Message | None = field(compare=False, default=None)
    sender: str | None = field(compare=False, default=None)
    timer: str | None = field(compare=False, default=None)
    cancelled: bool = field(compare=False, default=False)


class Context:
    """The `ctx` of one callback of one node."""

    def __init__(self, server: TestServer, name: str) -> None:
        self._server = server
        self._name = name
        self._open = True

    def send(self, msg: Message, to: str) -> None:
        self._check()
        self._server.route(self._name, msg, to)

    def send_local(self, msg: Message) -> None:
        self._check()
        self._server.replies[self._name].append(copy_message(msg))

    def set_timer(self, name: str, seconds: float) -> None:
        self._check()
        self._server.add_timer(self._name, name, seconds)

    def cancel_timer(self, name: str) -> None:
        self._check()
        self._server.remove_timer(self._name, name)

    def close(self) -> None:
        """Ends the callback: later use raises."""
        self._open = False

    def _check(self) -> None:
        if not self._open:
            raise RuntimeError(f"ctx of {self._name} used after its callback returned")


class TestServer:
    """Nodes `node01..nodeNN` at `127.0.0.1:9701..`, their network and their clients."""

    def __init__(self, count: int, process: Callable[[str, str, Callable[[], float]], Process] = bridge.Node) -> None:
        """Starts `count` nodes made by `process(name, address, clock)` (bridge nodes by default)."""
        self.speed = float(os.environ.get("KVORUM_FAKE_HARNESS_SPEED", "1.0"))
        self._origin = time.monotonic()
        self._lock = threading.Lock()
        self._queue: list[Pending] = []
        self._sequence = itertools.count()
        self._timers: dict[tuple[str, str], list[Pending]] = {}
        self._disconnected: set[str] = set()
        self._cut: set[tuple[str, str]] = set()
        self._peers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="peer-delivery")
        self.names = [f"node{i:02d}" for i in range(1, count + 1)]
        self.address = {name: f"127.0.0.1:{9700 + i}" for i, name in enumerate(self.names, start=1)}
        self._name_of = {address: name for name, address in self.address.items()}
        self.replies: dict[str, deque[Message]] = {name: deque() for name in self.names}
        self.errors: list[str] = []
        """What would break the real test server (a send to an unknown address)."""
        self.nodes: dict[str, Process] = {}
        faulthandler.dump_traceback_later(WATCHDOG, exit=True)
        try:
            for name in self.names:
                self.nodes[name] = process(name, self.address[name], self.now)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stops every node's executable and the delivery thread."""
        for node in self.nodes.values():
            close = getattr(node, "close", None)
            if close:
                close()
        self._peers.shutdown(wait=True)
        faulthandler.cancel_dump_traceback_later()

    def now(self) -> float:
        """Harness time in seconds."""
        return (time.monotonic() - self._origin) * self.speed

    # The API of the seed's tests.

    def send_local_message(self, name: str, msg: Message) -> None:
        """A client message, delivered at once."""
        log.debug("%.3f %s <= client %s %s", self.now(), name, msg.type, json.dumps(msg.body))
        self._call(name, lambda ctx, node: node.receive(ctx, copy_message(msg)))

    def step_until_local_message(self, name: str, timeout: float = 1.0) -> Message | None:
        """Steps until `name` has a client reply; gives up at events due after `timeout` s."""
        deadline = self.now() + timeout
        while not self.replies[name]:
            due = self.next_due()
            if due is None or due > deadline:
                return None
            self.step()
        return self.replies[name].popleft()

    def steps(self, n: int) -> int:
        """Up to `n` steps; stops when nothing is pending. Returns the steps taken."""
        taken = 0
        while taken < n and self.step():
            taken += 1
        return taken

    def step(self) -> bool:
        """Delivers the earliest due event, sleeping until its time; False if none is pending."""
        with self._lock:
            event = self._pop()
        if event is None:
            return False
        delay = (event.due - self.now()) / self.speed
        if delay > 0:
            time.sleep(delay)
        if event.timer is not None:
            timer = event.timer
            log.debug("%.3f %s timer %s", self.now(), event.node, timer)
            self._call(event.node, lambda ctx, node: node.on_timer(ctx, timer))
            return True
        assert event.message is not None and event.sender is not None
        message = copy_message(event.message, sender=self.address[event.sender])
        if self._dropped(event.sender, event.node):
            log.debug("%.3f %s -> %s %s dropped", self.now(), event.sender, event.node, message.type)
            return True
        log.debug("%.3f %s -> %s %s", self.now(), event.sender, event.node, message.type)
        self._peers.submit(self._call, event.node, lambda ctx, node: node.receive(ctx, message)).result()
        return True

    def disconnect(self, name: str) -> None:
        """Drops every message to and from `name` (not its messages to itself)."""
        self._disconnected.add(name)

    def connect(self, name: str) -> None:
        self._disconnected.discard(name)

    def partition(self, group_a: list[str], group_b: list[str]) -> None:
        """Cuts both directions between the two groups."""
        for a in group_a:
            for b in group_b:
                self._cut |= {(a, b), (b, a)}

    def reset_network(self) -> None:
        """Heals every disconnect and partition."""
        self._disconnected.clear()
        self._cut.clear()

    # What a ctx does.

    def route(self, sender: str, msg: Message, to: str) -> None:
        receiver = self._name_of.get(to)
        if receiver is None:
            self.errors.append(f"{sender} sent {msg.type} to unknown address {to!r}")
            return
        delay = 0.0 if receiver == sender else MESSAGE_DELAY
        with self._lock:
            self._push(Pending(self.now() + delay, next(self._sequence), receiver, message=msg, sender=sender))

    def add_timer(self, name: str, timer: str, seconds: float) -> None:
        event = Pending(self.now() + seconds, next(self._sequence), name, timer=timer)
        with self._lock:
            self._timers.setdefault((name, timer), []).append(event)
            self._push(event)

    def remove_timer(self, name: str, timer: str) -> None:
        """Cancels every pending timer called `timer`; `KeyError` if there is none."""
        with self._lock:
            pending = self._timers.pop((name, timer), None)
            if pending is None:
                raise KeyError(timer)
            for event in pending:
                event.cancelled = True

    # Internals.

    def next_due(self) -> float | None:
        with self._lock:
            while self._queue and self._queue[0].cancelled:
                heapq.heappop(self._queue)
            return self._queue[0].due if self._queue else None

    def _push(self, event: Pending) -> None:
        heapq.heappush(self._queue, event)

    def _pop(self) -> Pending | None:
        while self._queue:
            event = heapq.heappop(self._queue)
            if event.cancelled:
                continue
            if event.timer is not None:
                pending = self._timers[(event.node, event.timer)]
                pending.remove(event)
                if not pending:
                    del self._timers[(event.node, event.timer)]
            return event
        return None

    def _dropped(self, sender: str, receiver: str) -> bool:
        if sender == receiver:
            return False
        return bool({sender, receiver} & self._disconnected) or (sender, receiver) in self._cut

    def _call(self, name: str, callback: Callable[[Context, Any], None]) -> None:
        """Runs one callback of node `name` with a fresh ctx, closed when it returns."""
        ctx = Context(self, name)
        try:
            callback(ctx, self.nodes[name])
        finally:
            ctx.close()
