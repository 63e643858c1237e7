#!/usr/bin/env python3
"""`python3 -m moto.server`, with each request handled one at a time.

DynamoDB applies a conditional write atomically: of two concurrent
`PutItem`s with `attribute_not_exists(pk)`, exactly one succeeds. moto's
server handles requests on threads and its DynamoDB backend checks the
condition and writes the item without a lock, so on a loaded machine two
writers can both pass the check (seen in the e2e duplicate-storm tests:
"2 deliveries won the conditional write"). The storm tests are about our
pipeline, not about that race, so the end-to-end harness runs moto through
this wrapper: the same server and application, with one lock around the
application call, which gives each request the atomicity DynamoDB and SQS
guarantee. Connections are still accepted concurrently.

Usage: moto_atomic.py [moto.server's arguments: -H HOST -p PORT]
"""

import threading

from moto import server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_one_at_a_time = threading.Lock()
_handle = DomainDispatcherApplication.__call__


def _handle_atomically(self, environ, start_response):
    # moto builds the whole response inside the call: the lock covers the
    # backend's check and write.
    with _one_at_a_time:
        return _handle(self, environ, start_response)


DomainDispatcherApplication.__call__ = _handle_atomically

if __name__ == "__main__":
    server.main()
