#!/usr/bin/env python3
"""A local stand-in for Truecaller's Verified Campaign webhook endpoint.

    truecaller_standin.py --log FILE [--port-file FILE] [--port N] [--fail STATUS[:N]]

Listens on 127.0.0.1 (a free port unless --port is given; the port is written
to --port-file once it listens). Every request is appended to --log as one
JSON line: time, method, path, X-Org-ID, whether X-Org-Token was present (and,
when STANDIN_EXPECT_TOKEN is set, whether it matched; the token itself is
never written), the status answered and the body (parsed JSON when it is).

Answers 200 {"status": "accepted"}, or, with --fail STATUS[:N] (or the
environment variable STANDIN_FAIL), STATUS for the first N requests (every
request without N) - for trying the function's retries and dead letters by
hand: --fail 503:2 answers two 503s then 200s; --fail 400 rejects everything.
"""

import argparse
import datetime
import hmac
import http.server
import json
import os
import sys
import threading


class Standin(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, log_path, fail_status, fail_count, expected_token):
        super().__init__(address, Handler)
        self.log_path = log_path
        self.fail_status = fail_status
        self.fail_left = fail_count  # None: every request
        self.expected_token = expected_token
        self.lock = threading.Lock()

    def answer_for_next(self):
        with self.lock:
            if self.fail_status is None:
                return 200
            if self.fail_left is None:
                return self.fail_status
            if self.fail_left > 0:
                self.fail_left -= 1
                return self.fail_status
            return 200

    def record(self, entry):
        with self.lock, open(self.log_path, "a") as fh:
            fh.write(json.dumps(entry, sort_keys=True) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the function's client expects
    server_version = "truecaller-standin"

    def log_message(self, fmt, *args):  # the JSON-lines log is the record
        pass

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"unparsed": raw[:512].decode("utf-8", "replace")}
        token = self.headers.get("X-Org-Token")
        status = self.server.answer_for_next()
        entry = {
            "at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
            "method": self.command,
            "path": self.path,
            "content_type": self.headers.get("Content-Type"),
            "org_id": self.headers.get("X-Org-ID"),
            "org_token": "present" if token else "absent",
            "status": status,
            "body": body,
        }
        if self.server.expected_token is not None:
            entry["org_token_matches"] = bool(token) and hmac.compare_digest(
                token.encode(), self.server.expected_token.encode()
            )
        self.server.record(entry)
        answer = json.dumps({"status": "accepted" if status < 300 else "refused"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = _handle
    do_PUT = _handle
    do_GET = _handle


def parse_fail(value):
    if not value:
        return None, None
    status, _, count = value.partition(":")
    return int(status), (int(count) if count else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", required=True, help="JSON-lines log of every request")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="written with the port once listening")
    parser.add_argument("--fail", default=os.environ.get("STANDIN_FAIL", ""), help="STATUS[:N]")
    args = parser.parse_args()
    fail_status, fail_count = parse_fail(args.fail)
    server = Standin(
        ("127.0.0.1", args.port), args.log, fail_status, fail_count, os.environ.get("STANDIN_EXPECT_TOKEN")
    )
    open(args.log, "a").close()
    port = server.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"truecaller stand-in on http://127.0.0.1:{port}, log {args.log}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
