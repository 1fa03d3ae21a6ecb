"""The bridge itself (compat/dslib/node.py), against a scripted executable.

`fake/scripted_kvorum.py` stands in for `kvorum node --stdio`, so these tests
control exactly which effects the node answers and need no Swift build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Any
from unittest import mock

from harness import HERE, Context, TestServer  # first: puts the fake dslib and the bridge on sys.path
from dslib import Message, Process

SCRIPTED = str(HERE / "fake" / "scripted_kvorum.py")
BRIDGE = HERE.parent / "node.py"


def scripted(mode: str = "serve") -> dict[str, str]:
    """The environment that makes the bridge run the scripted executable in `mode`."""
    return {"KVORUM_EXECUTABLE": SCRIPTED, "SCRIPTED_KVORUM_MODE": mode}


class ScriptedTestCase(unittest.TestCase):
    """Two bridge nodes over the scripted executable, in the fake harness."""

    def setUp(self) -> None:
        with mock.patch.dict(os.environ, scripted()):
            self.server = TestServer(2)
        self.addCleanup(self.server.close)

    def request(self, type: str, body: Any = None, node: str = "node01") -> Message:
        self.server.send_local_message(node, Message(type, body))
        reply = self.server.step_until_local_message(node, timeout=1)
        assert reply is not None, f"no reply to {type}"
        return reply

    def events(self, node: str = "node01", kind: str | None = None) -> list[dict[str, Any]]:
        """The events the node's executable saw, optionally of one kind."""
        seen = self.request("EVENTS", node=node).body
        return [event for event in seen if kind is None or event["event"] == kind]


class TimerTableTests(ScriptedTestCase):
    def test_setting_a_pending_timer_again_fires_it_once(self) -> None:
        """The harness would fire both; the bridge cancels the first, so one firing arrives."""
        self.request("SET_TIMER", {"name": "t", "after": 0.2})
        self.request("SET_TIMER", {"name": "t", "after": 0.3})
        self.assertEqual(self.server.steps(10), 1)
        self.assertEqual(self.events(kind="timer"), [{"event": "timer", "name": "t"}])

    def test_cancelling_a_fired_timer_is_harmless(self) -> None:
        """Cancelling after the firing must not reach the harness (it raises KeyError)."""
        self.request("SET_TIMER", {"name": "t", "after": 0.1})
        self.assertEqual(self.server.steps(10), 1)
        self.assertEqual(self.request("CANCEL_TIMER", "t").type, "OK")
        self.assertEqual(self.request("CANCEL_TIMER", "never-set").type, "OK")
        self.assertEqual(self.events(kind="timer"), [{"event": "timer", "name": "t"}])

    def test_a_cancelled_timer_never_fires(self) -> None:
        """A cancel of a pending timer reaches the harness."""
        self.request("SET_TIMER", {"name": "t", "after": 0.1})
        self.request("CANCEL_TIMER", "t")
        self.assertEqual(self.server.steps(10), 0)
        self.assertEqual(self.events(kind="timer"), [])

    def test_a_stale_firing_is_ignored(self) -> None:
        """A firing of an earlier generation (or an unknown name) is not delivered."""
        self.request("SET_TIMER", {"name": "t", "after": 0.1})
        ctx = Context(self.server, "node01")
        self.server.nodes["node01"].on_timer(ctx, "t#999")
        self.server.nodes["node01"].on_timer(ctx, "unknown")
        ctx.close()
        self.assertEqual(self.events(kind="timer"), [])
        self.assertEqual(self.server.steps(10), 1)
        self.assertEqual(self.events(kind="timer"), [{"event": "timer", "name": "t"}])


class MessageTests(ScriptedTestCase):
    def test_client_requests_get_fresh_ids_and_their_body(self) -> None:
        """Each client message is a `client` event with a new id; its reply goes to the client."""
        first = self.request("HELLO", {"key": "k"})
        second = self.request("HELLO")
        self.assertEqual((first.type, first.body), ("ECHO", {"id": first.body["id"], "body": {"key": "k"}}))
        self.assertEqual(second.body, {"id": first.body["id"] + 1, "body": None})

    def test_sends_become_peer_events_with_the_sender_address(self) -> None:
        """A `send` effect reaches the addressed node 0.1 s later as a `peer` event."""
        self.request("SEND", {"to": self.server.address["node02"], "message": {"x": [1, "two"]}})
        started = self.server.now()
        self.assertEqual(self.server.steps(10), 1)
        self.assertGreaterEqual(self.server.now() - started, 0.09)
        peer = {"event": "peer", "from": self.server.address["node01"], "message": {"x": [1, "two"]}}
        self.assertEqual(self.events("node02", kind="peer"), [peer])
        self.assertEqual(self.server.errors, [])

    def test_callbacks_on_two_threads_are_serialised(self) -> None:
        """Client and peer callbacks racing on two threads still pair every event with its effects."""
        node = self.server.nodes["node01"]
        count = 200

        def peers() -> None:
            for i in range(count):
                msg = Message("test", {"n": i})
                msg.sender = self.server.address["node02"]
                ctx = Context(self.server, "node01")
                node.receive(ctx, msg)
                ctx.close()

        thread = threading.Thread(target=peers)
        thread.start()
        for i in range(count):
            self.server.send_local_message("node01", Message("HELLO", i))
        thread.join()
        replies = list(self.server.replies["node01"])
        self.server.replies["node01"].clear()
        self.assertEqual([reply.body["body"] for reply in replies], list(range(count)))
        self.assertEqual(len({reply.body["id"] for reply in replies}), count)
        peer_bodies = [event["message"]["n"] for event in self.events(kind="peer")]
        self.assertEqual(peer_bodies, list(range(count)))


class HarnessDoubleTests(unittest.TestCase):
    """The fake harness's ctx keeps the real one's sharp edges, so the bridge is tested against them."""

    class Recorder(Process):
        """Sets one timer name twice and cancels a name never set."""

        def __init__(self, name: str, addr: str, clock: Any) -> None:
            super().__init__(name)
            self.fired: list[str] = []
            self.cancel_raised = False
            self.ctx: Any = None

        def receive(self, ctx: Any, msg: Message) -> None:
            self.ctx = ctx
            ctx.set_timer("t", 0.1)
            ctx.set_timer("t", 0.2)
            try:
                ctx.cancel_timer("other")
            except KeyError:
                self.cancel_raised = True

        def on_timer(self, ctx: Any, timer_name: str) -> None:
            self.fired.append(timer_name)

    def test_ctx_semantics(self) -> None:
        """A pending name set twice fires twice; cancelling an unknown name raises; ctx expires."""
        server = TestServer(1, process=self.Recorder)
        self.addCleanup(server.close)
        server.send_local_message("node01", Message("GO"))
        self.assertEqual(server.steps(10), 2)
        recorder = server.nodes["node01"]
        self.assertEqual(recorder.fired, ["t", "t"])
        self.assertTrue(recorder.cancel_raised)
        with self.assertRaises(RuntimeError):
            recorder.ctx.send_local(Message("LATE"))


class FailureTests(unittest.TestCase):
    """The bridge exits loudly, and in bounded time, instead of hanging the harness."""

    def run_python(self, args: list[str], env: dict[str, str], cwd: Path) -> tuple[subprocess.CompletedProcess, float]:
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=30,
        )
        return result, time.monotonic() - started

    def run_bridge(self, env: dict[str, str], bridge: Path = BRIDGE) -> tuple[subprocess.CompletedProcess, float]:
        """`node.py -n node01 -l 127.0.0.1:9701` as the harness starts it."""
        base = {key: value for key, value in os.environ.items() if key != "KVORUM_EXECUTABLE"}
        env = {**base, "PYTHONPATH": str(HERE / "fake"), **env}
        return self.run_python([str(bridge), "-n", "node01", "-l", "127.0.0.1:9701"], env, bridge.parent)

    def run_callback(self, mode: str) -> tuple[subprocess.CompletedProcess, float]:
        """A client request to a bridge node whose executable fails at its first event."""
        code = (
            "import harness; from dslib import Message; s = harness.TestServer(1); "
            "s.send_local_message('node01', Message('GET')); print('survived')"
        )
        return self.run_python(["-c", code], {**os.environ, **scripted(mode)}, HERE)

    def test_missing_build_prints_the_build_hint(self) -> None:
        """Without KVORUM_EXECUTABLE and without a build, node.py says to build first."""
        with tempfile.TemporaryDirectory() as repo:
            copy = Path(repo) / "compat" / "dslib" / "node.py"
            copy.parent.mkdir(parents=True)
            shutil.copy(BRIDGE, copy)
            result, _ = self.run_bridge({}, bridge=copy)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("swift build -c release", result.stderr)

    def test_a_bad_override_is_named(self) -> None:
        result, _ = self.run_bridge({"KVORUM_EXECUTABLE": "/nonexistent/kvorum"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("KVORUM_EXECUTABLE=/nonexistent/kvorum is not an executable file", result.stderr)

    def test_an_executable_that_exits_at_once(self) -> None:
        result, elapsed = self.run_bridge(scripted("exit"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("exited with status 3", result.stderr)
        self.assertLess(elapsed, 5)

    def test_an_executable_that_never_shakes_hands(self) -> None:
        """Start-up gives up after 5 s."""
        result, elapsed = self.run_bridge(scripted("hang"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("did not send its handshake in time", result.stderr)
        self.assertLess(elapsed, 8)

    def test_an_executable_that_dies_mid_run(self) -> None:
        result, elapsed = self.run_callback("die-on-event")
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn("survived", result.stdout)
        self.assertIn("exited with status 4", result.stderr)
        self.assertLess(elapsed, 5)

    def test_an_executable_that_stalls_mid_run(self) -> None:
        """A callback gives up after 5 s."""
        result, elapsed = self.run_callback("hang-on-event")
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn("survived", result.stdout)
        self.assertIn("did not send its effects in time", result.stderr)
        self.assertLess(elapsed, 8)


if __name__ == "__main__":
    unittest.main()
