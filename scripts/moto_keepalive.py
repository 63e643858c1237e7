#!/usr/bin/env python3
"""moto's AWS emulator behind a small HTTP/1.1 server that answers as AWS does.

`moto_server` runs on Werkzeug's development server, which answers every
request with `Connection: close`, and writes a response's headers and its
body with separate socket writes. Against it, each SDK call opens a new TCP
connection, and reading an answer takes the function two wake-ups (headers,
then body) where AWS's endpoints deliver a small answer at once. For the
performance harnesses (scripts/coldstart.py, scripts/load.py) both costs
would be charged to the function under test, so they serve the same moto
application through this server instead:

- HTTP/1.1 keep-alive (connections are reused, as against AWS);
- each answer, headers and body, leaves in one write (the socket writer is
  buffered and flushed once per request by `http.server`).

Only the standard library: one thread per connection. The tests keep using
`python3 -m moto.server`.

Usage: moto_keepalive.py HOST PORT
"""

from __future__ import annotations

import http.server
import io
import sys
import urllib.parse

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

# Headers about the connection itself: this server sets its own.
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def make_handler(app, host: str, port: int):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Buffered: the whole answer goes out in the flush that
        # handle_one_request does after each request.
        wbufsize = 1 << 16

        def log_message(self, *args) -> None:
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                out = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(out)
                    out += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _environ(self, body: bytes) -> dict:
            path, _, query = self.path.partition("?")
            environ = {
                "REQUEST_METHOD": self.command,
                "SCRIPT_NAME": "",
                "PATH_INFO": urllib.parse.unquote(path, encoding="latin-1"),
                "QUERY_STRING": query,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "CONTENT_LENGTH": str(len(body)),
                "SERVER_NAME": host,
                "SERVER_PORT": str(port),
                "SERVER_PROTOCOL": self.request_version,
                "REMOTE_ADDR": self.client_address[0],
                "REMOTE_PORT": str(self.client_address[1]),
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
            }
            for name in set(self.headers.keys()):
                key = "HTTP_" + name.upper().replace("-", "_")
                if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    environ[key] = ",".join(self.headers.get_all(name))
            return environ

        def _serve(self) -> None:
            body = self._body()
            started: dict = {}

            def start_response(status, headers, exc_info=None):
                started["status"], started["headers"] = status, headers
                return lambda data: chunks.append(data)

            chunks: list[bytes] = []
            result = app(self._environ(body), start_response)
            try:
                chunks.extend(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
            answer = b"".join(chunks)
            code, _, reason = started["status"].partition(" ")
            self.send_response(int(code), reason)
            for name, value in started["headers"]:
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _serve

    return Handler


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    server = http.server.ThreadingHTTPServer((host, port), make_handler(app, host, port))
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
