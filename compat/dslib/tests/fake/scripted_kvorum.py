#!/usr/bin/env python3
"""A scripted stand-in for `kvorum node --stdio`, for the bridge's tests only.

`SCRIPTED_KVORUM_MODE` picks its behaviour:
- `serve` (default): speaks the stdio protocol; client requests script it:
  `SET_TIMER {"name", "after"}`, `CANCEL_TIMER name`, `SEND {"to", "message"}`
  (each also answered `OK`), `EVENTS` (answers every event seen so far, without
  times); any other type is answered `ECHO {"id", "body"}`.
- `exit`: exits with status 3 before the handshake.
- `hang`: never sends the handshake.
- `die-on-event` / `hang-on-event`: serves `start`, then exits with status 4 /
  stops answering at the next event.
"""

import argparse
import json
import os
import sys
import time

MODES = ("serve", "exit", "hang", "die-on-event", "hang-on-event")


def effects_for(event: dict, seen: list) -> list:
    """The scripted answer to one event."""
    if event["event"] != "client":
        return []
    kind, body, request = event["type"], event.get("body"), event["id"]
    ok = {"reply": {"id": request, "type": "OK", "body": None}}
    if kind == "SET_TIMER":
        return [{"setTimer": {"name": body["name"], "after": body["after"]}}, ok]
    if kind == "CANCEL_TIMER":
        return [{"cancelTimer": {"name": body}}, ok]
    if kind == "SEND":
        return [{"send": {"to": body["to"], "type": "test", "message": body["message"]}}, ok]
    if kind == "EVENTS":
        return [{"reply": {"id": request, "type": "EVENTS", "body": seen[:-1]}}]
    return [{"reply": {"id": request, "type": "ECHO", "body": {"id": request, "body": body}}}]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("--stdio", action="store_true")
    parser.add_argument("--name", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--profile", required=True)
    args = parser.parse_args()
    mode = os.environ.get("SCRIPTED_KVORUM_MODE", "serve")
    assert mode in MODES, mode
    if mode == "exit":
        sys.exit(3)
    if mode == "hang":
        time.sleep(3600)
    print(json.dumps({"ready": {"address": args.address, "name": args.name, "protocol": 1}}), flush=True)
    seen: list = []
    last_time = float("-inf")
    for line in sys.stdin:
        event = json.loads(line)
        if event["time"] < last_time:
            sys.exit(f"time went backwards: {event}")
        last_time = event.pop("time")
        if event["event"] != "start" and mode == "die-on-event":
            sys.exit(4)
        if event["event"] != "start" and mode == "hang-on-event":
            time.sleep(3600)
        seen.append(event)
        print(json.dumps({"effects": effects_for(event, seen)}), flush=True)


if __name__ == "__main__":
    main()
