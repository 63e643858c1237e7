#!/usr/bin/env python3
"""Local AWS for scripts/run.sh: resources on moto's server, and the report.

    local_stack.py setup  --endpoint URL [--campaign]
                                                     creates table, queue, parameters;
                                                     prints the queue URL. --campaign also
                                                     enables the table's stream
                                                     (NEW_AND_OLD_IMAGES), creates the
                                                     campaign DLQ and the org token
                                                     parameter, and prints the DLQ URL
                                                     on a second line
    local_stack.py report --endpoint URL --deliveries FILE [--tasks-out FILE]
                                                     stored records, queued tasks, summary;
                                                     exit 1 if a task_id is queued twice;
                                                     --tasks-out: the drained tasks (JSON lines)

Only talks to the endpoint given (127.0.0.1), with the fake `testing` credentials.
"""

import argparse
import collections
import json
import sys
import time

import boto3
from botocore.config import Config

REGION = "ap-south-1"
TABLE = "webhook-events"
QUEUE = "callback-requests.fifo"
CAMPAIGN_DLQ = "truecaller-campaign-dlq"
ORG_TOKEN_PARAM = "/truecaller-campaign/org-token"
ORG_TOKEN = "dev-org-token"
PROVIDERS = ["truecaller", "curious-thing", "smartflo", "wavix"]


def token_param(provider):
    return f"/webhook-receivers/{provider}/webhook-tokens"


def client(service, endpoint):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 2}, connect_timeout=2, read_timeout=10),
    )


def wait_for(endpoint, seconds=30):
    sts = client("sts", endpoint)
    deadline = time.monotonic() + seconds
    while True:
        try:
            sts.get_caller_identity()
            return
        except Exception as err:  # connection refused while moto starts
            if time.monotonic() > deadline:
                sys.exit(f"moto did not answer at {endpoint} within {seconds}s: {err}")
            time.sleep(0.2)


def setup(args):
    wait_for(args.endpoint)
    ddb = client("dynamodb", args.endpoint)
    stream = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"} if args.campaign else None
    ddb.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        **({"StreamSpecification": stream} if stream else {}),
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "pending_shard", "AttributeType": "S"},
            {"AttributeName": "pending_since", "AttributeType": "S"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "pending-tasks",
                "KeySchema": [
                    {"AttributeName": "pending_shard", "KeyType": "HASH"},
                    {"AttributeName": "pending_since", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    ddb.get_waiter("table_exists").wait(TableName=TABLE, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    ddb.update_time_to_live(
        TableName=TABLE, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )

    sqs = client("sqs", args.endpoint)
    url = sqs.create_queue(
        QueueName=QUEUE,
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]

    ssm = client("ssm", args.endpoint)
    for provider in PROVIDERS:
        ssm.put_parameter(
            Name=token_param(provider),
            Type="SecureString",
            Value=f"dev-token-{provider}",
            Overwrite=True,
        )
    print(url)
    if args.campaign:
        dlq = sqs.create_queue(QueueName=CAMPAIGN_DLQ)["QueueUrl"]
        ssm.put_parameter(Name=ORG_TOKEN_PARAM, Type="SecureString", Value=ORG_TOKEN, Overwrite=True)
        print(dlq)


# ---------------------------------------------------------------- report


def mask(phone):
    if not phone:
        return "-"
    phone = str(phone)
    digits = sum(c.isdigit() for c in phone)
    out, seen = [], 0
    for c in phone:
        if c.isdigit():
            seen += 1
            out.append(c if seen > digits - 3 else "*")
        else:
            out.append(c)
    return "".join(out)


def scan_all(ddb):
    items, kwargs = [], {"TableName": TABLE}
    while True:
        page = ddb.scan(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def attr(item, name):
    value = item.get(name)
    if not value:
        return None
    (kind, v), = value.items()
    return v if kind in ("S", "N") else json.dumps(v)


def drain_queue(sqs, url):
    """Receives until the queue is empty, deleting what it received (a FIFO
    queue hides the rest of a message group while one of its messages is in
    flight, so reading without deleting would not show everything)."""
    messages, empty = [], 0
    while empty < 2:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=1,
            VisibilityTimeout=60,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            empty += 1
            continue
        empty = 0
        messages.extend(got)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
        )
    return messages


def window_text(window):
    if not window:
        return "-"
    return f"{window.get('from', '?')} .. {window.get('to', '?')}"


def report(args):
    ddb = client("dynamodb", args.endpoint)
    sqs = client("sqs", args.endpoint)
    url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]

    with open(args.deliveries) as fh:
        deliveries = [json.loads(line) for line in fh if line.strip()]

    # Stored records, grouped per provider.
    items = scan_all(ddb)
    by_provider = collections.defaultdict(list)
    for item in items:
        by_provider[attr(item, "provider") or attr(item, "pk").split("#", 1)[0]].append(item)
    print(f"\n== Stored records (table {TABLE}: {len(items)} items) ==")
    status_counts = collections.Counter()
    record_tasks = {}
    for provider in PROVIDERS + sorted(set(by_provider) - set(PROVIDERS)):
        rows = sorted(by_provider.get(provider, []), key=lambda i: attr(i, "pk"))
        counts = collections.Counter(attr(i, "status") for i in rows)
        status_counts.update(counts)
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
        print(f"\n  {provider}: {len(rows)} records ({summary})")
        for item in rows:
            pk = attr(item, "pk")
            task = attr(item, "task_id")
            if task:
                record_tasks[task] = (pk, attr(item, "status"))
            extra = f"  reason: {attr(item, 'reason')}" if attr(item, "status") == "rejected" else ""
            if "#conflict#" in pk:
                extra += "  (same event key, different payload: kept for audit)"
            print(
                f"    {attr(item, 'status') or '?':<13} {attr(item, 'event_type') or '-':<36} "
                f"task {task or '-':<36}  {pk}{extra}"
            )

    # Callback tasks on the queue.
    messages = drain_queue(sqs, url)
    if args.tasks_out:
        with open(args.tasks_out, "w") as fh:
            for m in messages:
                fh.write(m["Body"].replace("\n", " ") + "\n")
    print(f"\n== Callback tasks on {QUEUE} ({len(messages)} messages, drained) ==")
    task_counts = collections.Counter()
    problems = []
    for m in messages:
        try:
            body = json.loads(m["Body"])
        except ValueError:
            problems.append(f"message {m['MessageId']} has a body that is not JSON")
            continue
        task_id = body.get("task_id")
        task_counts[task_id] += 1
        dedup = m.get("Attributes", {}).get("MessageDeduplicationId")
        if dedup and dedup != task_id:
            problems.append(f"task {task_id}: MessageDeduplicationId is {dedup}, not the task_id")
        print(
            f"  {task_id}  {body.get('provider', '?'):<13} {body.get('reason', '?'):<18} "
            f"phone {mask(body.get('phone')):<16} window {window_text(body.get('window'))}"
        )

    duplicates = {t: n for t, n in task_counts.items() if n > 1}
    for task_id in sorted(set(record_tasks) - set(task_counts)):
        pk, status = record_tasks[task_id]
        problems.append(f"record {pk} ({status}) has task {task_id}, which is not on the queue")
    for task_id in sorted(set(task_counts) - set(record_tasks)):
        problems.append(f"queued task {task_id} has no stored record")

    # Summary.
    codes = collections.Counter(d["status"] for d in deliveries)
    print("\n== Summary ==")
    print(f"  deliveries : {len(deliveries)}  (" + ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())) + ")")
    print(f"  records    : {len(items)}  (" + ", ".join(f"{s}: {n}" for s, n in sorted(status_counts.items())) + ")")
    print(f"  tasks      : {len(messages)} queued, {len(task_counts)} distinct task ids")
    for p in problems:
        print(f"  note       : {p}")
    if duplicates:
        for task_id, n in sorted(duplicates.items()):
            print(f"  FAIL       : task {task_id} is on the queue {n} times")
        return 1
    print("  check      : no task_id queued twice - OK")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--campaign", action="store_true", help="stream, DLQ and org token for truecaller-campaign")
    p = sub.add_parser("report")
    p.add_argument("--endpoint", required=True)
    p.add_argument("--deliveries", required=True, help="JSON lines written by replay.py")
    p.add_argument("--tasks-out", help="write the drained callback tasks here, one JSON per line")
    args = parser.parse_args()
    if args.command == "setup":
        setup(args)
        return 0
    return report(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
