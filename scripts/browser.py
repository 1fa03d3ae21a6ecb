#!/usr/bin/env python3
"""Drives headless Chromium through the DevTools protocol, with nothing but
Python's standard library (a minimal websocket client: the handshake and
masked text frames).

Two modes:

  browser.py serve --url URL
      Opens URL in one page and keeps it open, answering commands read from
      stdin, one JSON object a line, with one JSON object a line on stdout:
        {"eval": EXPR}                  -> {"ok": true, "value": V}
        {"wait": EXPR, "timeout": S}    -> polls EXPR every 100 ms until it is
                                           truthy: {"ok": true, "value": V},
                                           or {"ok": false, "error": …, "last": V}
        {"screenshot": PATH}            -> {"ok": true, "bytes": N}
        {"quit": true}                  -> {"ok": true}, then exits
      The first line written is {"ok": true, "ready": true} once the page has
      loaded, or {"ok": false, "error": …}.

  browser.py screenshot --url URL --out PATH [--wait EXPR] [--timeout S]
      Opens URL, waits until EXPR is truthy, writes a PNG of the viewport.

Chromium runs in a process group of its own (`--headless=new --no-sandbox
--remote-debugging-port=0`, a fresh profile directory); the DevTools URL is
read from its stderr. Every wait is bounded, and the whole run is killed
after --max-seconds: whatever happens, the group is SIGKILLed and the
profile removed before this script exits (stdin closing ends `serve`).
"""

import argparse
import base64
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

WIDTH, HEIGHT = 1280, 800


class DriverError(Exception):
    pass


class Browser:
    """One headless Chromium in its own process group."""

    def __init__(self, executable, startup_timeout, extra_arguments=()):
        self.profile = tempfile.mkdtemp(prefix="kvorum-chromium-")
        self.stderr_tail = []
        command = [
            executable, "--headless=new", "--no-sandbox", "--remote-debugging-port=0",
            "--user-data-dir=" + self.profile, "--no-first-run", "--no-default-browser-check",
            "--disable-gpu", "--disable-extensions", "--disable-background-networking",
            "--disable-component-update", "--hide-scrollbars", "--window-size=%d,%d" % (WIDTH, HEIGHT),
            *extra_arguments, "about:blank",
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True)
        self.websocket_url = self._devtools_url(startup_timeout)
        threading.Thread(target=self._drain, daemon=True).start()

    def _devtools_url(self, timeout):
        deadline = time.monotonic() + timeout
        buffered = b""
        stream = self.process.stderr
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            buffered += chunk
            match = re.search(rb"DevTools listening on (ws://\S+)", buffered)
            if match:
                return match.group(1).decode()
        self.stderr_tail = buffered.decode(errors="replace").splitlines()[-20:]
        raise DriverError(
            "chromium printed no DevTools URL within %.0f s; its stderr:\n%s" % (timeout, "\n".join(self.stderr_tail)))

    def _drain(self):
        for line in self.process.stderr:
            self.stderr_tail = (self.stderr_tail + [line.decode(errors="replace").rstrip()])[-20:]

    def page_websocket_url(self):
        """The DevTools URL of the browser's first page target."""
        port = re.match(r"ws://[^:/]+:(\d+)/", self.websocket_url).group(1)
        with urllib.request.urlopen("http://127.0.0.1:%s/json/list" % port, timeout=5) as answer:
            targets = json.load(answer)
        pages = [target for target in targets if target.get("type") == "page"]
        if not pages:
            raise DriverError("chromium has no page target: %s" % targets)
        return pages[0]["webSocketDebuggerUrl"]

    def kill(self):
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.profile, ignore_errors=True)


class WebSocket:
    """A client websocket (RFC 6455): text frames out, masked; frames in,
    reassembled; pings answered."""

    def __init__(self, url, timeout):
        match = re.match(r"ws://([^:/]+):(\d+)(/.*)", url)
        if not match:
            raise DriverError("not a ws:// URL: %s" % url)
        host, port, path = match.group(1), int(match.group(2)), match.group(3)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (path, host, port, key))
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise DriverError("the DevTools websocket closed during the handshake")
            head += chunk
        head, self.pending = head.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise DriverError("websocket handshake refused: %s" % head.decode(errors="replace"))

    def send_text(self, text):
        payload = text.encode()
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def _read(self, count):
        while len(self.pending) < count:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise DriverError("the DevTools websocket closed")
            self.pending += chunk
        data, self.pending = self.pending[:count], self.pending[count:]
        return data

    def receive_text(self):
        message = b""
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                length = struct.unpack("!H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else None
            payload = self._read(length)
            if mask:
                payload = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
            if opcode == 0x8:
                raise DriverError("the DevTools websocket was closed by chromium")
            if opcode == 0x9:
                self._send_pong(payload)
                continue
            if opcode in (0x0, 0x1, 0x2):
                message += payload
                if first & 0x80:
                    return message.decode()

    def _send_pong(self, payload):
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.sock.sendall(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)

    def close(self):
        self.sock.close()


class Page:
    """DevTools commands on one page."""

    def __init__(self, websocket):
        self.websocket = websocket
        self.next_id = 0
        self.exceptions = []

    def call(self, method, **params):
        self.next_id += 1
        self.websocket.send_text(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.websocket.receive_text())
            if message.get("method") == "Runtime.exceptionThrown":
                details = message["params"]["exceptionDetails"]
                self.exceptions.append(details.get("exception", {}).get("description") or details.get("text"))
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise DriverError("%s failed: %s" % (method, message["error"]))
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise DriverError(
                "%s threw: %s" % (expression, details.get("exception", {}).get("description") or details.get("text")))
        return result["result"].get("value")

    def wait(self, expression, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.evaluate(expression)
            except DriverError as error:
                last = str(error)
            else:
                if last:
                    return True, last
            if time.monotonic() >= deadline:
                return False, last
            time.sleep(0.1)

    def open(self, url, timeout):
        self.call("Runtime.enable")
        self.call("Page.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT, deviceScaleFactor=1, mobile=False)
        navigation = self.call("Page.navigate", url=url)
        if navigation.get("errorText"):
            raise DriverError("cannot load %s: %s" % (url, navigation["errorText"]))
        loaded, state = self.wait("document.readyState === 'complete'", timeout)
        if not loaded:
            raise DriverError("%s did not finish loading within %.0f s" % (url, timeout))

    def screenshot(self, path):
        data = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        with open(path, "wb") as output:
            output.write(data)
        return len(data)


def answer(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def serve(page):
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            command = json.loads(line)
            if "eval" in command:
                answer({"ok": True, "value": page.evaluate(command["eval"])})
            elif "wait" in command:
                held, value = page.wait(command["wait"], float(command.get("timeout", 10)))
                if held:
                    answer({"ok": True, "value": value})
                else:
                    answer({"ok": False, "error": "timed out waiting for %s" % command["wait"], "last": value,
                            "exceptions": page.exceptions[-5:]})
            elif "screenshot" in command:
                answer({"ok": True, "bytes": page.screenshot(command["screenshot"])})
            elif command.get("quit"):
                answer({"ok": True})
                return
            else:
                answer({"ok": False, "error": "unknown command: %s" % line.strip()})
        except DriverError as error:
            answer({"ok": False, "error": str(error)})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["serve", "screenshot"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", help="screenshot: the PNG to write")
    parser.add_argument("--wait", default="true", help="screenshot: take it once this expression is truthy")
    parser.add_argument("--timeout", type=float, default=30, help="screenshot: how long to wait for --wait")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    parser.add_argument("--max-seconds", type=float, default=300, help="kill everything after this long")
    parser.add_argument("--chromium-arg", action="append", default=[],
                        help="one more chromium flag (repeatable), e.g. --chromium-arg=--ignore-certificate-errors")
    arguments = parser.parse_args()
    if arguments.mode == "screenshot" and not arguments.out:
        parser.error("screenshot needs --out")
    executable = shutil.which(arguments.chromium)
    if executable is None:
        answer({"ok": False, "error": "no chromium found (%s); install it: apt-get install -y chromium"
                % arguments.chromium})
        return 2

    browser = None
    finished = threading.Event()

    def cleanup(*_):
        if browser is not None:
            browser.kill()

    def watchdog():
        if not finished.wait(arguments.max_seconds):
            sys.stderr.write("browser.py: killed after --max-seconds %.0f\n" % arguments.max_seconds)
            cleanup()
            os._exit(3)

    threading.Thread(target=watchdog, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: (cleanup(), os._exit(143)))
    try:
        browser = Browser(executable, startup_timeout=30, extra_arguments=arguments.chromium_arg)
        page = Page(WebSocket(browser.page_websocket_url(), timeout=60))
        page.open(arguments.url, timeout=30)
        if arguments.mode == "serve":
            answer({"ok": True, "ready": True})
            serve(page)
        else:
            held, value = page.wait(arguments.wait, arguments.timeout)
            if not held:
                raise DriverError("timed out after %.0f s waiting for %s (last: %r; page exceptions: %s)"
                                  % (arguments.timeout, arguments.wait, value, page.exceptions[-5:]))
            size = page.screenshot(arguments.out)
            answer({"ok": True, "bytes": size, "path": arguments.out})
        return 0
    except (DriverError, OSError) as error:
        tail = "\n".join(browser.stderr_tail) if browser else ""
        answer({"ok": False, "error": str(error), "chromiumStderr": tail})
        return 1
    finally:
        finished.set()
        cleanup()


if __name__ == "__main__":
    sys.exit(main())
