#!/usr/bin/env python3
"""Replays recorded API Gateway (HTTP API, payload 2.0) events over HTTP, the
way the provider would send them, to `cargo lambda watch`'s function URLs.

    replay.py warm-up --base URL [--log WATCH_LOG] FUNCTION...
                                                 starts each function (first request
                                                 may wait for cargo to build it)
    replay.py replay --base URL --events DIR --out FILE [--only PROVIDER]

A file events/<provider>/<name>.json is sent as
    <method> <base>/lambda-url/<provider><rawPath>?<rawQueryString>
with its headers and body (base64-decoded when isBase64Encoded). Providers go
in a fixed order; within one, files are sorted by name, redeliveries last so
each comes after its original. One JSON line per delivery goes to --out.
"""

import argparse
import base64
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

PROVIDERS = ["truecaller", "curious-thing", "smartflo", "wavix"]
# Set by http.client itself, or meaningless on a new connection.
SKIP_HEADERS = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


def request(base, method, path, headers=None, body=None, timeout=60.0):
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# Lines in cargo lambda watch's log that mean a function will never answer
# (the emulator then holds the request open instead of failing it).
FATAL_MARKERS = ("startup_failed", "command exited", "error: could not compile", "panicked at")


def warm_up(args):
    """A request without a token: the function must start (its init reads the
    token parameter from SSM) and answer 401; nothing is stored. While it is
    pending, the watch log is checked for a start-up failure."""
    for function in args.functions:
        offset = os.path.getsize(args.log) if args.log and os.path.exists(args.log) else 0
        result = {}

        def send():
            try:
                result["status"], result["body"] = request(
                    args.base, "GET", f"/lambda-url/{function}/", timeout=args.timeout
                )
            except (OSError, http.client.HTTPException) as err:
                result["status"], result["body"] = None, str(err).encode()

        started = time.monotonic()
        thread = threading.Thread(target=send, daemon=True)
        thread.start()
        next_note = 15
        while thread.is_alive():
            thread.join(0.5)
            waited = time.monotonic() - started
            if args.log and os.path.exists(args.log):
                with open(args.log, "rb") as fh:
                    fh.seek(offset)
                    fresh = fh.read().decode("utf-8", "replace")
                if any(m in fresh for m in FATAL_MARKERS):
                    print(f"    {function:<14} FAILED to start (see the log below)", flush=True)
                    return 1
            if waited > next_note:
                print(f"    {function:<14} still starting after {waited:.0f}s (cargo may be building it)", flush=True)
                next_note += 30
        status = result.get("status")
        # 4xx is the function answering; anything else is the emulator.
        if status is None or not 400 <= status < 500:
            print(f"    {function:<14} NOT ready: {status} {result.get('body', b'')[:300]!r}", flush=True)
            return 1
        print(f"    {function:<14} ready ({time.monotonic() - started:.1f}s, HTTP {status})", flush=True)
    return 0


def event_files(events_dir, only):
    for provider in PROVIDERS:
        if only and provider != only:
            continue
        folder = os.path.join(events_dir, provider)
        if not os.path.isdir(folder):
            continue
        names = [
            n for n in os.listdir(folder) if n.endswith(".json") and os.path.isfile(os.path.join(folder, n))
        ]
        # By stem ("a" before "a-b"), redeliveries after everything else.
        names.sort(key=lambda n: ("redelivery" in n, n[: -len(".json")]))
        for name in names:
            yield provider, os.path.join(folder, name)


def describe(status, body):
    try:
        doc = json.loads(body)
    except ValueError:
        return body.decode("utf-8", "replace")[:120] or "(empty body)"
    if isinstance(doc, dict) and "events" in doc:
        parts = []
        for e in doc.get("events") or []:
            text = f"{e.get('outcome', '?')} {e.get('event_type') or '?'}"
            if e.get("task_id"):
                text += f" task={e['task_id']}"
            if e.get("reason"):
                text += f" ({e['reason']})"
            parts.append(text)
        return "; ".join(parts) or f"{doc.get('status')}: no events"
    if isinstance(doc, dict) and "error" in doc:
        return f"{doc['error']}: {doc.get('message', '')}"
    return json.dumps(doc)[:120]


def replay(args):
    deliveries = 0
    files = list(event_files(args.events, args.only))
    width = max((len(os.path.basename(path)) for _, path in files), default=0)
    with open(args.out, "w") as out:
        for provider, path in files:
            name = os.path.basename(path)
            with open(path) as fh:
                event = json.load(fh)
            method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
            target = f"/lambda-url/{provider}{event.get('rawPath') or '/'}"
            if event.get("rawQueryString"):
                target += "?" + event["rawQueryString"]
            headers = {k: v for k, v in (event.get("headers") or {}).items() if k.lower() not in SKIP_HEADERS}
            body = event.get("body")
            if body is not None:
                body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode("utf-8")
            started = time.monotonic()
            try:
                status, resp = request(args.base, method, target, headers, body)
            except (OSError, http.client.HTTPException) as err:
                status, resp = 0, f"no answer: {err}".encode()
            ms = (time.monotonic() - started) * 1000
            deliveries += 1
            print(f"  {provider:<13} {name:<{width}} {status:>3}  {describe(status, resp)}", flush=True)
            record = {
                "provider": provider,
                "file": name,
                "method": method,
                "status": status,
                "ms": round(ms, 1),
                "body": resp.decode("utf-8", "replace"),
            }
            out.write(json.dumps(record) + "\n")
    if deliveries == 0:
        print("  no recorded events found", file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("warm-up")
    p.add_argument("--base", required=True)
    p.add_argument("--timeout", type=float, default=900)
    p.add_argument("--log", help="cargo lambda watch's log, checked for start-up failures")
    p.add_argument("functions", nargs="+")
    p = sub.add_parser("replay")
    p.add_argument("--base", required=True)
    p.add_argument("--events", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--only", choices=PROVIDERS)
    args = parser.parse_args()
    return warm_up(args) if args.command == "warm-up" else replay(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
