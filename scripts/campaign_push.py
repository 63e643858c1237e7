#!/usr/bin/env python3
"""The truecaller-campaign function against the local stack, for scripts/run.sh.

    campaign_push.py push --endpoint MOTO_URL --invoke WATCH_URL --tasks FILE
                          --standin-log FILE --function-log FILE --out DIR
        Reads the events table's DynamoDB stream from moto (every shard, from
        TRIM_HORIZON), keeps what the event source mapping's filter passes
        (INSERT/MODIFY whose NewImage.status is task_enqueued, as in
        docs/campaign.md), wraps the records in Lambda DynamoDB stream events of
        at most 5 records (the mapping's batch size; written to DIR as
        campaign-batch-N.json) and invokes the function with each, through
        cargo lambda watch's Invoke API (what `cargo lambda invoke` calls).
        Then delivers every batch a second time (a redelivered stream) and
        checks, against the callback tasks drained from the queue (FILE, JSON
        lines) and the stand-in's log: one push per task, none twice, nothing
        dead-lettered, no batch item failures. Exit 1 otherwise.

    campaign_push.py invalid --binary PATH --env-file FILE --templates FILE
                             --standin-log FILE [--extra-env KEY=VALUE]...
        Starts the function binary with a deliberately invalid template (in
        FILE) and otherwise the same environment: it must refuse to start,
        naming every problem by template key and field, and send nothing.

Only talks to 127.0.0.1. Phone numbers are printed masked, the org token never.
"""

import argparse
import collections
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import local_stack  # noqa: E402

FUNCTION = "truecaller-campaign"
BATCH_SIZE = 5


# ---------------------------------------------------------------- stream


def to_jsonable(value):
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def read_stream(endpoint):
    """Every record of the table's stream, oldest first, with its ARN."""
    ddb = local_stack.client("dynamodb", endpoint)
    streams = local_stack.client("dynamodbstreams", endpoint)
    arn = ddb.describe_table(TableName=local_stack.TABLE)["Table"].get("LatestStreamArn")
    if not arn:
        sys.exit(f"table {local_stack.TABLE} has no stream (local_stack.py setup --campaign enables it)")
    records = []
    shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
    return arn, records


def passes_filter(record):
    """The event source mapping's filter_criteria (docs/campaign.md)."""
    new = record.get("dynamodb", {}).get("NewImage") or {}
    return record.get("eventName") in ("INSERT", "MODIFY") and new.get("status", {}).get("S") == "task_enqueued"


def lambda_record(record, arn):
    """A stream record as Lambda's event source mapping delivers it."""
    out = to_jsonable(record)
    out["awsRegion"] = local_stack.REGION  # moto writes us-east-1 here
    out["eventSourceARN"] = arn
    out["eventVersion"] = "1.1"
    return out


# ---------------------------------------------------------------- invoke


def invoke(base, event, timeout=180):
    request = urllib.request.Request(
        f"{base}/2015-03-31/functions/{FUNCTION}/invocations",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        text = answer.read().decode()
        if answer.headers.get("X-Amz-Function-Error") or answer.headers.get("Lambda-Runtime-Function-Error-Type"):
            raise RuntimeError(f"function error: {text[:500]}")
    try:
        return json.loads(text)
    except ValueError:
        raise RuntimeError(f"not a JSON answer: {text[:500]}") from None


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    out = []
    with open(path) as fh:
        for line in fh:
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def function_logs(path, since=0):
    """The function's JSON log lines in cargo lambda watch's log, from byte `since`."""
    if not os.path.exists(path):
        return [], 0
    with open(path, "rb") as fh:
        fh.seek(since)
        data = fh.read()
    lines = []
    for raw in data.decode("utf-8", "replace").splitlines():
        start = raw.find("{")
        if start < 0:
            continue
        try:
            doc = json.loads(raw[start:])
        except ValueError:
            continue
        if isinstance(doc, dict) and "outcome" in doc:
            lines.append(doc)
    return lines, since + len(data)


def deliver(args, batches, label):
    """Invokes the function with each batch; returns batch item failures and
    the function's batch_done counts."""
    failures = []
    counts = collections.Counter()
    _, offset = function_logs(args.function_log)
    for n, (path, event) in enumerate(batches, 1):
        started = time.monotonic()
        try:
            answer = invoke(args.invoke, event)
        except Exception as err:  # noqa: BLE001 - reported, the run fails
            print(f"    {label} batch {n}: invocation failed: {err}")
            failures.append(f"batch {n}: invocation failed")
            continue
        took = time.monotonic() - started
        failed = [f.get("itemIdentifier") for f in answer.get("batchItemFailures") or []]
        failures.extend(f"batch {n}: record {f}" for f in failed)
        if args.verbose or failed:
            print(
                f"    {label} batch {n} ({os.path.basename(path)}, {len(event['Records'])} records, {took:.2f}s): "
                f"batchItemFailures {failed}"
            )
    time.sleep(0.3)  # the function's last log lines reach the watch log
    logs, _ = function_logs(args.function_log, offset)
    for doc in logs:
        if doc.get("outcome") == "batch_done":
            for key in ("records", "pushed", "rejected", "skipped", "duplicates", "failures"):
                counts[key] += int(doc.get(key) or 0)
    return failures, counts, logs


def dead_letters(endpoint, url):
    sqs = local_stack.client("sqs", endpoint)
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs.get("ApproximateNumberOfMessages", 0)) + int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))


def campaign_records(endpoint):
    ddb = local_stack.client("dynamodb", endpoint)
    items = [i for i in local_stack.scan_all(ddb) if (local_stack.attr(i, "pk") or "").startswith("campaign#")]
    return collections.Counter(local_stack.attr(i, "status") for i in items)


def pushes_of(log):
    """Every POST the stand-in received (accepted or not)."""
    return [e for e in log if e.get("method") == "POST"]


def accepted(push):
    return 200 <= int(push.get("status") or 0) < 300


def task_of(push):
    campaign_id = ((push.get("body") or {}).get("profile") or {}).get("campaign_id") or ""
    return campaign_id[3:] if campaign_id.startswith("cb-") else None


def push(args):
    tasks = read_jsonl(args.tasks)
    arn, records = read_stream(args.endpoint)
    work = [r for r in records if passes_filter(r)]
    kinds = collections.Counter(r["eventName"] for r in records)
    print(
        f"    stream of {local_stack.TABLE}: {len(records)} records ("
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
        + f"); {len(work)} pass the event source filter (INSERT/MODIFY with NewImage.status task_enqueued)"
    )
    batches = []
    for i in range(0, len(work), BATCH_SIZE):
        event = {"Records": [lambda_record(r, arn) for r in work[i : i + BATCH_SIZE]]}
        path = os.path.join(args.out, f"campaign-batch-{len(batches) + 1}.json")
        with open(path, "w") as fh:
            json.dump(event, fh, indent=1)
        batches.append((path, event))
    print(f"    {len(batches)} Lambda stream event(s) of at most {BATCH_SIZE} records, invoked through cargo lambda watch")

    before = len(pushes_of(read_jsonl(args.standin_log)))
    started = time.monotonic()
    failures, counts, first_logs = deliver(args, batches, "first delivery")
    first_took = time.monotonic() - started
    log = read_jsonl(args.standin_log)
    first_pushes = pushes_of(log)[before:]
    print(
        f"    first delivery: {len(batches)} invocation(s) in {first_took:.1f}s; function: "
        f"{counts['records']} records, {counts['pushed']} pushed, {counts['rejected']} rejected, "
        f"{counts['skipped']} skipped, {counts['duplicates']} duplicates, {counts['failures']} failed"
    )
    for doc in first_logs:
        if doc.get("outcome") in ("dead_lettered", "skipped", "record_failed", "startup_failed", "push_retry"):
            shown = ("outcome", "reason", "why", "cause", "task_id", "http_status", "problems", "attempt")
            print(f"    function log: {json.dumps({k: doc[k] for k in shown if k in doc})}")

    started = time.monotonic()
    re_failures, re_counts, _ = deliver(args, batches, "redelivery")
    log = read_jsonl(args.standin_log)
    all_pushes = pushes_of(log)[before:]
    new_on_redelivery = len(all_pushes) - len(first_pushes)
    print(
        f"    redelivery of the same {len(batches)} event(s): {time.monotonic() - started:.1f}s; function: "
        f"{re_counts['pushed']} pushed, {re_counts['duplicates']} duplicates (already done); "
        f"stand-in: {new_on_redelivery} new pushes"
    )
    failures.extend(re_failures)

    # One accepted push per task, read from the stand-in's log (a request it
    # answered with an error is an attempt, not a push).
    by_task = collections.defaultdict(list)
    strays = []
    refused = [p for p in all_pushes if not accepted(p)]
    for p in filter(accepted, all_pushes):
        task_id = task_of(p)
        (by_task[task_id].append(p) if task_id else strays.append(p))
    if refused:
        print(
            f"    stand-in refused {len(refused)} request(s): "
            + ", ".join(f"{n}x HTTP {s}" for s, n in sorted(collections.Counter(p['status'] for p in refused).items()))
        )
    print(f"\n    {'task_id':<36}  {'provider':<13} {'receiver':<15} {'display_unit':<13} title")
    problems = []
    task_ids = set()
    for task in sorted(tasks, key=lambda t: (t.get("provider", ""), t.get("task_id", ""))):
        task_id = task.get("task_id")
        task_ids.add(task_id)
        got = by_task.get(task_id, [])
        if not got:
            problems.append(f"task {task_id} ({task.get('provider')}): no push")
            print(f"    {task_id:<36}  {task.get('provider', '?'):<13} {local_stack.mask(task.get('phone')):<15} NO PUSH")
            continue
        body = got[0].get("body") or {}
        content, profile = body.get("content") or {}, body.get("profile") or {}
        receiver = profile.get("receiver_number")
        if receiver != task.get("phone"):
            problems.append(f"task {task_id}: pushed to {local_stack.mask(receiver)}, not the task's number")
        for p in got:
            if p.get("org_id") != args.org_id or p.get("org_token") != "present" or p.get("org_token_matches") is False:
                problems.append(f"task {task_id}: push without the right X-Org-ID / X-Org-Token")
        if len(got) > 1:
            problems.append(f"task {task_id}: pushed {len(got)} times")
        print(
            f"    {task_id:<36}  {task.get('provider', '?'):<13} {local_stack.mask(receiver):<15} "
            f"{content.get('display_unit', '?'):<13} {content.get('title', '?')}"
            + (f"   x{len(got)}" if len(got) > 1 else "")
        )
    for task_id in sorted(set(by_task) - task_ids):
        problems.append(f"push for task {task_id}, which is not on the callback queue")
    if strays:
        problems.append(f"{len(strays)} pushes without a cb-<task_id> campaign_id")

    letters = dead_letters(args.endpoint, args.dlq_url)
    statuses = campaign_records(args.endpoint)
    duplicates = sum(len(v) - 1 for v in by_task.values() if len(v) > 1)
    pushed_tasks = sum(1 for t in task_ids if by_task.get(t))
    print(
        f"\n    campaign records: "
        + (", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none")
        + f"; dead-letter queue: {letters} messages"
    )
    for f in failures:
        problems.append(f"batch item failure: {f}")
    if letters:
        problems.append(f"{letters} dead letters")
    for p in problems:
        print(f"    FAIL: {p}")
    print(f"    tasks {len(task_ids)}, pushes {pushed_tasks}, duplicates {duplicates}, dead letters {letters}")
    if problems:
        print("    FAIL: every callback task must lead to exactly one valid campaign push")
        return 1
    print("    check: one campaign push per callback task, none on redelivery - OK")
    return 0


# ---------------------------------------------------------------- invalid template


def read_env_file(path):
    env = {}
    with open(path) as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, value = line.split("=", 1)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            env[key] = value
    return env


def invalid(args):
    with open(args.templates) as fh:
        templates = json.load(fh)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "TMPDIR", "LANG")}
    env.update(read_env_file(args.env_file))
    env["CAMPAIGN_TEMPLATES"] = json.dumps(templates, separators=(",", ":"))
    env["RUST_LOG"] = "info"
    for pair in args.extra_env or []:
        key, _, value = pair.partition("=")
        env[key] = value
    before = len(read_jsonl(args.standin_log))
    for key, template in templates.items():
        content = template.get("content") or {}
        print(
            f"    template {key!r}: {content.get('display_unit')} style {content.get('template_style')}, "
            f"title {content.get('title')!r}, fields: {', '.join(content)}"
        )
    try:
        proc = subprocess.run([args.binary], env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        print("    FAIL: the function started with an invalid template (still running after 30 s)")
        return 1
    refusal = None
    for line in (proc.stdout + proc.stderr).splitlines():
        start = line.find("{")
        try:
            doc = json.loads(line[start:]) if start >= 0 else None
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("outcome") == "startup_failed":
            refusal = doc
    sent = len(read_jsonl(args.standin_log)) - before
    if proc.returncode == 0 or refusal is None:
        print(f"    FAIL: expected a startup refusal, got exit {proc.returncode}")
        print("\n".join("      " + line for line in (proc.stdout + proc.stderr).splitlines()[-20:]))
        return 1
    cause = refusal.get("cause", "")
    head, _, rest = cause.partition("\n")
    print(f"    {args.binary.split('/')[-1]} exited {proc.returncode} at cold start (outcome=startup_failed): {head}")
    for line in rest.splitlines():
        print(f"      {line}")
    print(f"    stand-in: {sent} requests for it")
    if sent:
        print("    FAIL: something was sent with an invalid template")
        return 1
    print("    check: invalid template refused with field-level reasons, nothing sent - OK")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("push")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--invoke", required=True, help="cargo lambda watch base URL")
    p.add_argument("--tasks", required=True)
    p.add_argument("--dlq-url", required=True)
    p.add_argument("--org-id", required=True)
    p.add_argument("--standin-log", required=True)
    p.add_argument("--function-log", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--verbose", action="store_true")
    p = sub.add_parser("invalid")
    p.add_argument("--binary", required=True)
    p.add_argument("--env-file", required=True)
    p.add_argument("--templates", required=True)
    p.add_argument("--extra-env", action="append", metavar="KEY=VALUE")
    p.add_argument("--standin-log", required=True)
    args = parser.parse_args()
    return push(args) if args.command == "push" else invalid(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
