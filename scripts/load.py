#!/usr/bin/env python3
"""Load through the local stack (scripts/run.sh --load N[:C]).

Sends N Truecaller Call Me Back deliveries (each a new task event: one
PutItem, one SendMessage, one UpdateItem) with C concurrent connections to
the function under `cargo lambda watch`, then reports deliveries per second,
latency percentiles, status counts, the CPU each local process used, and
names the bottleneck. Verifies nothing was lost or sent twice: N records,
N distinct tasks on the queue. Fixed count, stops by itself, 127.0.0.1 only.
"""

import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
import http.client

sys.path.insert(0, os.path.dirname(__file__))
import local_stack  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def descendants(root):
    """root and every process below it (from /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parents[int(entry)] = int(fields[1])
            except OSError:
                pass
    tree, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return tree


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        except OSError:
            pass
    return total / CLOCK_TICKS


def body_for(event_id):
    with open(os.path.join(os.path.dirname(__file__), "..", "events", "truecaller", "cmb-happy-flow.json")) as f:
        event = json.load(f)
    payload = json.loads(event["body"])
    payload["event_id"] = event_id
    return json.dumps(payload)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="cargo lambda watch URL")
    parser.add_argument("--endpoint", required=True, help="moto URL")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pid", action="append", default=[], help="name=pid of a local process tree to account CPU for")
    args = parser.parse_args()

    url = urllib.parse.urlparse(args.base)
    path = "/lambda-url/truecaller/webhooks/truecaller?key=dev-token-truecaller"
    bodies = [body_for(str(uuid.uuid4())) for _ in range(args.count)]
    trees = {name: int(pid) for name, pid in (p.split("=", 1) for p in args.pid)}
    local = threading.local()

    def send(body):
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        started = time.perf_counter()
        try:
            local.conn.request("POST", path, body=body, headers={"content-type": "application/json"})
            response = local.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            local.conn.close()
            del local.conn
            status = 0
        return status, time.perf_counter() - started

    cpu_before = {name: cpu_seconds(descendants(pid)) for name, pid in trees.items()}
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        results = list(pool.map(send, bodies))
    elapsed = time.perf_counter() - started
    cpu_used = {name: cpu_seconds(descendants(pid)) - cpu_before[name] for name, pid in trees.items()}

    latencies = sorted(latency * 1000 for _, latency in results)
    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1

    def pct(p):
        return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]

    print(f"    deliveries   {args.count} with {args.concurrency} connections in {elapsed:.1f}s: {args.count / elapsed:.0f} deliveries/s")
    print(f"    statuses     {dict(sorted(statuses.items()))}")
    print(f"    latency ms   p50 {pct(50):.1f}  p90 {pct(90):.1f}  p99 {pct(99):.1f}  max {latencies[-1]:.1f}  mean {statistics.mean(latencies):.1f}")
    cores = os.cpu_count() or 1
    for name, used in sorted(cpu_used.items(), key=lambda kv: -kv[1]):
        print(f"    cpu          {name:<22} {used:6.1f}s  ({100 * used / elapsed:.0f}% of one core, {1000 * used / args.count:.2f} ms per delivery)")
    if cpu_used:
        busiest, used = max(cpu_used.items(), key=lambda kv: kv[1])
        share = used / elapsed
        verdict = "saturated" if share > 0.85 else "the largest CPU user"
        print(f"    bottleneck   {busiest}: {share:.2f} cores of {cores} ({verdict})")

    ddb = local_stack.client("dynamodb", args.endpoint)
    sqs = local_stack.client("sqs", args.endpoint)
    queue_url = sqs.get_queue_url(QueueName=local_stack.QUEUE)["QueueUrl"]
    records = [i for i in local_stack.scan_all(ddb) if local_stack.attr(i, "status") == "task_enqueued"]
    tasks = local_stack.drain_queue(sqs, queue_url)
    task_ids = [json.loads(t["Body"]).get("task_id") for t in tasks]
    ok = statuses.get(200, 0)
    print(f"    check        {ok} answered 200; {len(records)} records task_enqueued; {len(tasks)} tasks queued, {len(set(task_ids))} distinct")
    if len(set(task_ids)) != len(task_ids) or len(records) < ok:
        print("    FAILED: a task was sent twice or an accepted delivery is missing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
