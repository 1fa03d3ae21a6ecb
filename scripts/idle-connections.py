#!/usr/bin/env python3
"""Opens COUNT TCP connections to a node's HTTP port on 127.0.0.1, sends
nothing on any of them, and reports how the node dealt with each, to check
--max-connections and --request-header-timeout (docs/limits.md).

Usage: idle-connections.py PORT COUNT

Prints one JSON line once the node has closed every connection (or each has
stayed open for 5 s after all were opened):
  {"opened_seconds": s, "refused": n, "silent": n, "open": n, "other": [...]}
refused: answered 503 with Retry-After: 1 naming --max-connections, then
closed; silent: closed without a word (admitted, then timed out); open:
still open; other: the start of any other answer.

The LimitsProcessTests run it as a child so that the test process itself
never holds thousands of descriptors while other tests start processes.
"""
import json
import resource
import socket
import sys
import time


def main():
    port, count = int(sys.argv[1]), int(sys.argv[2])
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    start = time.monotonic()
    connections = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(count)]
    report = {"opened_seconds": round(time.monotonic() - start, 3), "refused": 0, "silent": 0, "open": 0,
              "other": []}
    for connection in connections:
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except socket.timeout:
            report["open"] += 1
            continue
        except ConnectionResetError:
            pass
        finally:
            connection.close()
        text = received.decode(errors="replace")
        if not text:
            report["silent"] += 1
        elif text.startswith("HTTP/1.1 503 ") and "Retry-After: 1\r\n" in text and "--max-connections" in text:
            report["refused"] += 1
        else:
            report["other"].append(text[:200])
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
