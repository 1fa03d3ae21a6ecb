"""Kvorum as a node of the course's Python test harness ("dslib").

The harness starts this file as ``python3 IMPL_DIR/node.py -n NAME -l ADDR [-d]``
with ``dslib`` on PYTHONPATH. The bridge starts the Kvorum executable in stdio
mode (``kvorum node --stdio``, docs/stdio-protocol.md) and relays every harness
callback to it as one JSON event line, then applies the one effects line it
answers through the harness's ``ctx`` before the callback returns.

The Kvorum executable is, in this order:
1. ``$KVORUM_EXECUTABLE`` if that variable is set;
2. ``<repo>/.build/release/kvorum`` (``swift build -c release`` in the repo);
3. ``<repo>/.build/debug/kvorum`` (``swift build``);
where ``<repo>`` is the directory two levels above this file.

Everything is logged to stderr (more with ``-d``); stdout is never used.
"""

from __future__ import annotations

import argparse
import atexit
import itertools
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, NoReturn

from dslib import Message, Process, Runtime

PROTOCOL_VERSION = 1
START_DEADLINE = 5.0
"""Seconds from launching the executable to its handshake and `start` answer."""
EVENT_DEADLINE = 5.0
"""Seconds the executable may take to answer one event line."""

log = logging.getLogger("kvorum.bridge")


class BridgeError(Exception):
    """The Kvorum executable cannot be found, started or understood."""


def find_executable() -> str:
    """The Kvorum executable to run (see the module docstring)."""
    override = os.environ.get("KVORUM_EXECUTABLE")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise BridgeError(f"KVORUM_EXECUTABLE={override} is not an executable file")
        return override
    repo = Path(__file__).resolve().parents[2]
    for build in ("release", "debug"):
        candidate = repo / ".build" / build / "kvorum"
        if os.access(candidate, os.X_OK):
            return str(candidate)
    raise BridgeError(
        f"no Kvorum executable: run `swift build -c release` in {repo} first "
        "(or set KVORUM_EXECUTABLE to a built `kvorum`)"
    )


class Node(Process):
    """One Kvorum node driven over stdio on behalf of the harness."""

    def __init__(self, name: str, addr: str, clock: Callable[[], float] = time.monotonic) -> None:
        """Starts the executable, checks its handshake and delivers `start`.

        `clock` gives every event's time; the default suits the real harness.
        Raises `BridgeError` when the node is not up within `START_DEADLINE`.
        """
        super().__init__(name)
        self._name = name
        self._addr = addr
        self._clock = clock
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._open_requests: set[int] = set()
        self._generations = itertools.count(1)
        self._timers: dict[str, str] = {}
        """Kvorum timer name -> the pending dslib timer standing for it."""
        self._lines: queue.Queue[str | None] = queue.Queue()
        deadline = time.monotonic() + START_DEADLINE
        command = [
            find_executable(), "node", "--stdio",
            "--name", name, "--address", addr, "--profile", "harness",
        ]
        log.debug("%s: starting %s", name, " ".join(command))
        try:
            self._proc = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, encoding="utf-8"
            )
        except OSError as error:
            raise BridgeError(f"cannot start {command[0]}: {error}") from error
        atexit.register(self.close)
        threading.Thread(target=self._read_stdout, name=f"{name}-stdout", daemon=True).start()
        try:
            self._check_handshake(self._read_line(deadline, "its handshake"))
            # No ctx before the first callback: that callback applies these first.
            self._deferred = self._exchange({"event": "start"}, deadline)
        except BridgeError:
            self._proc.kill()
            self.close()
            raise

    def receive(self, ctx: Any, msg: Message) -> None:
        """A client message becomes a `client` event, a peer message a `peer` event."""
        with self._lock:
            try:
                if msg.is_local():
                    request = next(self._ids)
                    self._open_requests.add(request)
                    event = {"event": "client", "id": request, "type": msg.type, "body": msg.body}
                else:
                    event = {"event": "peer", "from": msg.sender, "message": msg.body}
                self._handle(ctx, event)
            except Exception as error:  # noqa: BLE001 - the harness thread would die silently
                self._die(f"while handling message {msg.type!r}: {error}")

    def on_timer(self, ctx: Any, timer_name: str) -> None:
        """A firing of the current generation of a Kvorum timer becomes a `timer` event."""
        with self._lock:
            try:
                name = timer_name.rpartition("#")[0]
                if self._timers.get(name) != timer_name:
                    log.debug("%s: ignoring stale timer %s", self._name, timer_name)
                    return
                del self._timers[name]
                self._handle(ctx, {"event": "timer", "name": name})
            except Exception as error:  # noqa: BLE001 - the harness thread would die silently
                self._die(f"while handling timer {timer_name!r}: {error}")

    def close(self) -> None:
        """Stops the executable (closing its stdin, then killing it if it lingers)."""
        atexit.unregister(self.close)
        try:
            self._proc.stdin.close()
        except OSError:
            pass  # a dead executable: nothing left to flush to
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    # Internals; the caller holds the lock.

    def _handle(self, ctx: Any, event: dict[str, Any]) -> None:
        """Sends one event and applies its effects (after any deferred from `start`)."""
        effects = self._deferred + self._exchange(event, time.monotonic() + EVENT_DEADLINE)
        self._deferred = []
        for effect in effects:
            self._apply(ctx, effect)

    def _exchange(self, event: dict[str, Any], deadline: float) -> list[dict[str, Any]]:
        """Writes an event line (stamped with the time) and reads its effects line."""
        line = json.dumps({**event, "time": self._clock()}, separators=(",", ":"))
        log.debug("%s <- %s", self._name, line)
        try:
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
        except OSError as error:
            raise BridgeError(f"cannot write to the executable: {error}") from error
        answer = self._read_line(deadline, "its effects")
        log.debug("%s -> %s", self._name, answer)
        try:
            decoded = json.loads(answer)
            effects = decoded["effects"]
        except (ValueError, TypeError, KeyError) as error:
            raise BridgeError(f"not an effects line: {answer!r}") from error
        if "error" in decoded:
            log.error("%s: the node rejected %s: %s", self._name, line, decoded["error"])
        return effects

    def _apply(self, ctx: Any, effect: dict[str, Any]) -> None:
        """Carries out one effect through the harness."""
        if "send" in effect:
            send = effect["send"]
            ctx.send(Message(send["type"], send["message"]), send["to"])
        elif "reply" in effect:
            reply = effect["reply"]
            if reply["id"] not in self._open_requests:
                log.warning("%s: reply to request %s, which is not open: %s", self._name, reply["id"], reply)
            self._open_requests.discard(reply["id"])
            ctx.send_local(Message(reply["type"], reply["body"]))
        elif "setTimer" in effect:
            name = effect["setTimer"]["name"]
            self._cancel(ctx, name)
            pending = f"{name}#{next(self._generations)}"
            ctx.set_timer(pending, effect["setTimer"]["after"])
            self._timers[name] = pending
        elif "cancelTimer" in effect:
            self._cancel(ctx, effect["cancelTimer"]["name"])
        else:
            raise BridgeError(f"unknown effect {effect!r}")

    def _cancel(self, ctx: Any, name: str) -> None:
        """Cancels the pending dslib timer for Kvorum timer `name`, if any."""
        pending = self._timers.pop(name, None)
        if pending is None:
            return
        try:
            ctx.cancel_timer(pending)
        except KeyError:
            # Fired but not yet delivered; on_timer will find it stale.
            log.debug("%s: timer %s already fired", self._name, pending)

    def _check_handshake(self, line: str) -> None:
        try:
            ready = json.loads(line)["ready"]
        except (ValueError, TypeError, KeyError) as error:
            raise BridgeError(f"not a handshake line: {line!r}") from error
        expected = {"protocol": PROTOCOL_VERSION, "name": self._name, "address": self._addr}
        if {key: ready.get(key) for key in expected} != expected:
            raise BridgeError(f"handshake {ready} does not match {expected}")

    def _read_line(self, deadline: float, what: str) -> str:
        """The executable's next stdout line, or `BridgeError` if it died or stalled."""
        try:
            line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise BridgeError(f"the executable did not send {what} in time") from None
        if line is None:
            self._proc.wait()
            raise BridgeError(f"the executable exited with status {self._proc.returncode} instead of sending {what}")
        return line

    def _read_stdout(self) -> None:
        """Moves the executable's stdout lines to a queue; `None` marks its end."""
        with self._proc.stdout as lines:
            for line in lines:
                self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _die(self, reason: str) -> NoReturn:
        """Logs (with the traceback), stops the executable and ends the whole process."""
        log.critical("kvorum bridge %s: %s; exiting", self._name, reason, exc_info=True)
        self._proc.kill()
        os._exit(1)


def main() -> None:
    """Entry point used by the harness: ``node.py -n NAME -l ADDR [-d]``."""
    parser = argparse.ArgumentParser(description="Kvorum node for the dslib test harness")
    parser.add_argument("-n", dest="name", required=True, help="node name")
    parser.add_argument("-l", dest="addr", required=True, help="node address host:port")
    parser.add_argument("-d", dest="debug", action="store_true", help="log every event and effect")
    args = parser.parse_args()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    try:
        node = Node(args.name, args.addr)
    except BridgeError as error:
        log.critical("kvorum bridge %s: %s", args.name, error)
        sys.exit(1)
    Runtime(node, args.addr).start()


if __name__ == "__main__":
    main()
