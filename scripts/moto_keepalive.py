#!/usr/bin/env python3
"""moto's AWS emulator behind a WSGI server that keeps connections alive.

`moto_server` runs on Werkzeug's development server, which answers every
request with `Connection: close`: each SDK call then opens a new TCP
connection, which the real DynamoDB and SQS endpoints never make a client
do. For the performance harnesses (scripts/coldstart.py, --load) that cost
would be charged to the function under test, so they serve the same moto
application through waitress (HTTP/1.1 keep-alive) when it is installed.
The tests keep using `python3 -m moto.server`.

Usage: moto_keepalive.py HOST PORT
"""

import sys

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from waitress import serve


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    # Enough threads for the load test's concurrent connections.
    serve(app, host=host, port=port, threads=16, connection_limit=256, channel_timeout=120, _quiet=True)


if __name__ == "__main__":
    main()
