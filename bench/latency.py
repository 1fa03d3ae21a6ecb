#!/usr/bin/env python3
"""Single-client latency of quorum writes and reads against one Kvorum node.

Usage: python3 bench/latency.py --url http://127.0.0.1:8701 [--count 2000] [--w 2] [--r 2]

One keep-alive HTTP connection, one request at a time: PUT /kv/{key}?w=W of a
100-byte value to --count fresh keys (blind writes to one key would pile up
siblings), then GET /kv/{key}?r=R of the same keys. Prints p50/p90/p99/max in milliseconds for each. The client is Python
(http.client), so every figure includes its own overhead (~0.05 ms).
"""

import argparse
import http.client
import statistics
import time
import urllib.parse


def measure(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None) -> float:
    start = time.perf_counter()
    conn.request(method, path, body=body)
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    if response.status not in (200, 404):
        raise SystemExit(f"{method} {path}: HTTP {response.status}")
    return elapsed


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000

    print(
        f"{name:<10} n={len(ordered):<6} p50={pct(0.50):.3f} ms  p90={pct(0.90):.3f} ms  "
        f"p99={pct(0.99):.3f} ms  max={ordered[-1] * 1000:.3f} ms  mean={statistics.mean(ordered) * 1000:.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--w", type=int, default=2)
    parser.add_argument("--r", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    value = b"x" * 100
    run = time.time_ns()
    for i in range(args.warmup):
        measure(conn, "PUT", f"/kv/warm-{run}-{i}?w={args.w}", value)
    puts = [measure(conn, "PUT", f"/kv/lat-{run}-{i}?w={args.w}", value) for i in range(args.count)]
    gets = [measure(conn, "GET", f"/kv/lat-{run}-{i}?r={args.r}", None) for i in range(args.count)]
    report(f"PUT w={args.w}", puts)
    report(f"GET r={args.r}", gets)


if __name__ == "__main__":
    main()
