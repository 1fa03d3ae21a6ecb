"""A stand-in for the course's `dslib`, for the bridge's tests only.

It has just the node-side names the bridge imports (COMPAT-dslib.md); the
test server that drives nodes is `tests/harness.py`. It is written from
those notes: nothing of the real package is copied here.
"""

from __future__ import annotations

from typing import Any


class Message:
    """A message with a type and a JSON body; `sender` is set on peer messages."""

    def __init__(self, type: str, body: Any = None) -> None:
        self.type = type
        self.body = body
        self.sender: str | None = None

    def is_local(self) -> bool:
        """True for a client message (one that no peer sent)."""
        return self.sender is None

    def __repr__(self) -> str:
        return f"Message({self.type!r}, {self.body!r}, sender={self.sender!r})"


class Process:
    """The base of a node: the harness calls `receive` and `on_timer`."""

    def __init__(self, name: str) -> None:
        self.name = name

    def receive(self, ctx: Any, msg: Message) -> None:
        raise NotImplementedError

    def on_timer(self, ctx: Any, timer_name: str) -> None:
        raise NotImplementedError


class Runtime:
    """Would attach a node to the test server; the fake has no server to attach to."""

    def __init__(self, proc: Process, addr: str) -> None:
        self.proc = proc
        self.addr = addr

    def start(self) -> None:
        raise NotImplementedError("the fake dslib has no test server; tests drive nodes with tests/harness.py")
