#!/usr/bin/env python3
"""An instant stand-in for DynamoDB and SQS, for one measurement only.

NOT an emulator and never used by the tests (they talk to moto): it parses
nothing but the `X-Amz-Target` header and answers every call at once with a
canned success (`PutItem`, `UpdateItem`: `{}`; `SendMessage`: a message id
and the body's MD5; `DescribeTable`, `GetQueueAttributes`: the minimum the
warm-up reads). A conditional write never fails here, so there are no
duplicates.

Why it exists: against moto, a Python process doing real work for 5-30 ms
per call on the same machine, the function's caches are cold at every
answer. `MOTO_SERVER=instant python3 scripts/coldstart.py` runs the same
measurement against this server instead, which separates the function's
own CPU per delivery from the emulator's effect on it
(docs/performance.md, "Session 3").

Usage: instant_aws.py PORT
       INSTANT_DELAY_MS=10 instant_aws.py PORT   # the same answers, each after
           a pause (as long as moto's work): does the function's CPU per call
           depend on how long it waits, rather than on what it does?
"""

import asyncio
import hashlib
import json
import sys
import os
import uuid

DELAY_S = float(os.environ.get("INSTANT_DELAY_MS", "0")) / 1000

ANSWERS = {
    "DescribeTable": b'{"Table":{"TableName":"events","TableStatus":"ACTIVE"}}',
    "GetQueueAttributes": b'{"Attributes":{"QueueArn":"arn:aws:sqs:ap-south-1:123456789012:callbacks.fifo"}}',
}


def answer(target: str, body: bytes) -> bytes:
    operation = target.rsplit(".", 1)[-1]
    if operation == "SendMessage":
        message = json.loads(body)["MessageBody"].encode()
        return json.dumps({
            "MD5OfMessageBody": hashlib.md5(message).hexdigest(),
            "MessageId": str(uuid.uuid4()),
            "SequenceNumber": "18888888888888888888",
        }).encode()
    return ANSWERS.get(operation, b"{}")


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            headers = {}
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
            out = answer(headers.get("x-amz-target", ""), body)
            if DELAY_S:
                await asyncio.sleep(DELAY_S)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
                         b"x-amzn-RequestId: instant\r\nContent-Length: %d\r\n\r\n%s" % (len(out), out))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
