#!/usr/bin/env python3
"""Cold-start harness (issue 6): each release binary under a local Lambda
Runtime API emulator, against moto's server, measured from the outside.

For each function it starts the release binary (`target/release/<fn>`) as
Lambda would (env `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>` and the rest),
then measures

  init      process spawn -> its first `GET .../invocation/next`
  first     the first event handed out -> its response posted
  warm      N more events (fresh event keys: each is a new task event, so
            3 AWS calls: PutItem, SendMessage, UpdateItem), each timed the
            same way; median and p90
  cpu       user+system CPU of the function process over the warm run / N
            (sum of /proc/<pid>/task/*/schedstat, ns; /proc/<pid>/stat
            utime+stime in clock ticks as a cross-check)
  peak RSS  VmHWM from /proc/<pid>/status at the end
  init CPU  the process's CPU time from spawn to its first poll
  init (inline tokens)  one more cold start with WEBHOOK_TOKENS instead of
            the SSM parameter: init without the SSM call

and the package: binary size and the size of a zip holding it as
`bootstrap` (what `cargo lambda build --output-format zip` deploys).

Prints a table, writes JSON to <target>/coldstart.json. Everything is
bounded in time; moto and the functions are stopped on exit.

Usage:
  cargo build --release -p truecaller -p curious-thing -p smartflo -p wavix
  python3 scripts/coldstart.py [--runs 3] [--warm 100] [--functions truecaller,...]
  python3 scripts/coldstart.py --callgrind --warm 50   # instructions per delivery
  python3 scripts/coldstart.py --breakdown             # + 1-call and no-call deliveries

Needs Python 3.11 and boto3 (comes with `pip install "moto[server]"`,
which the script installs when moto_server is missing).
Times are wall-clock on this machine, against moto (a Python emulator, a
few ms per call, plain HTTP on loopback): warm and first-invocation times
are dominated by moto, not by the function; CPU per delivery is not.
"""

from __future__ import annotations

import argparse
import atexit
import copy
import http.server
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-south-1"
TOKENS = "dev-token-truecaller,dev-token-curious-thing,dev-token-smartflo,dev-token-wavix"
FUNCTIONS = ["truecaller", "curious-thing", "smartflo", "wavix"]
RUNTIME_PREFIX = "/2018-06-01/runtime"
CLK_TCK = os.sysconf("SC_CLK_TCK")
# Hard limits: nothing here runs unbounded.
INVOCATION_TIMEOUT_S = 15.0
INIT_TIMEOUT_S = 30.0
TOTAL_TIMEOUT_S = 1800.0

_children: list[subprocess.Popen] = []
LOG_DIR = ROOT / "target"  # set to the cargo target dir in main()


def _cleanup() -> None:
    for child in reversed(_children):
        if child.poll() is None:
            try:
                os.killpg(child.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
    _children.clear()


def _on_signal(signum, _frame):
    _cleanup()
    sys.exit(128 + signum)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- events


def load_event(path: str) -> dict:
    return json.loads((ROOT / path).read_text())


def body_of(event: dict):
    return json.loads(event["body"])


def with_body(event: dict, body) -> dict:
    e = copy.deepcopy(event)
    e["body"] = json.dumps(body, separators=(",", ":"))
    e["isBase64Encoded"] = False
    return e


def truecaller_events(n: int):
    base = load_event("events/truecaller/cmb-happy-flow.json")
    body = body_of(base)
    for _ in range(n):
        body["event_id"] = str(uuid.uuid4())
        yield with_body(base, body)


def curious_thing_events(n: int):
    base = load_event("events/curious-thing/call-complete-human-requested.json")
    body = body_of(base)
    for _ in range(n):
        body[0]["id"] = str(uuid.uuid4())
        yield with_body(base, body)


def smartflo_events(n: int):
    base = load_event("events/smartflo/call-hangup-missed.json")
    body = body_of(base)
    stem = int(time.time())
    for i in range(n):
        body["call_id"] = f"{stem}.{i:07d}"
        body["uuid"] = uuid.uuid4().hex[:13]
        yield with_body(base, body)


def wavix_events(n: int):
    base = load_event("events/wavix/post-call-inbound-missed-noanswer.json")
    body = body_of(base)
    for _ in range(n):
        body["uuid"] = str(uuid.uuid4())
        yield with_body(base, body)


EVENTS = {
    "truecaller": ("events/truecaller/cmb-happy-flow.json, fresh event_id", truecaller_events),
    "curious-thing": ("events/curious-thing/call-complete-human-requested.json, fresh id", curious_thing_events),
    "smartflo": ("events/smartflo/call-hangup-missed.json, fresh call_id", smartflo_events),
    "wavix": ("events/wavix/post-call-inbound-missed-noanswer.json, fresh uuid", wavix_events),
}


# ------------------------------------------------- Lambda Runtime API emulator


class Invocation:
    def __init__(self, request_id: str, event: dict):
        self.request_id = request_id
        self.payload = json.dumps(event).encode()
        self.handed_out_ns: int | None = None
        self.done_ns: int | None = None
        self.kind: str | None = None  # "response" | "error"
        self.response: bytes | None = None
        self.done = threading.Event()


class RuntimeApi:
    """The part of the Lambda Runtime API a function's runtime loop uses."""

    def __init__(self):
        self.pending: queue.Queue[Invocation] = queue.Queue()
        self.by_id: dict[str, Invocation] = {}
        self.next_polls: list[int] = []  # perf_counter_ns of each GET /next
        self.first_poll = threading.Event()
        self.init_error: bytes | None = None
        self.stopping = False
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffered, flushed once per answer: headers and body leave in
            # one write, as from Lambda's Runtime API. Written apart, the
            # function reads the headers, is woken again for the body, and
            # lambda_runtime drops the connection when the body of its
            # response's 202 has not arrived yet (a reconnect per delivery).
            wbufsize = 1 << 16

            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: bytes = b"{}", headers: dict | None = None):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self):
                if self.path != f"{RUNTIME_PREFIX}/invocation/next":
                    return self._reply(404, b'{"errorMessage":"not found"}')
                api.next_polls.append(time.perf_counter_ns())
                api.first_poll.set()
                while True:
                    if api.stopping:
                        return self._reply(500, b'{"errorMessage":"stopping"}')
                    try:
                        inv = api.pending.get(timeout=0.5)
                        break
                    except queue.Empty:
                        continue
                deadline_ms = int(time.time() * 1000) + 30_000
                headers = {
                    "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                    "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                    "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
                }
                inv.handed_out_ns = time.perf_counter_ns()
                self._reply(200, inv.payload, headers)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = self._read_chunked()
                now = time.perf_counter_ns()
                parts = self.path.removeprefix(RUNTIME_PREFIX).strip("/").split("/")
                if parts == ["init", "error"]:
                    api.init_error = data
                    api.first_poll.set()
                    return self._reply(202, b'{"status":"OK"}')
                if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    inv = api.by_id.get(parts[1])
                    if inv is None:
                        return self._reply(400, b'{"errorMessage":"unknown request id"}')
                    inv.done_ns, inv.kind, inv.response = now, parts[2], data
                    inv.done.set()
                    return self._reply(202, b'{"status":"OK"}')
                return self._reply(404, b'{"errorMessage":"not found"}')

            def _read_chunked(self) -> bytes:
                out = b""
                while True:
                    size = int(self.rfile.readline().strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()

        class Server(http.server.ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                # A function stopped mid-poll at the end of a run: expected.
                if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def invoke(self, event: dict) -> Invocation:
        inv = Invocation(str(uuid.uuid4()), event)
        self.by_id[inv.request_id] = inv
        self.pending.put(inv)
        if not inv.done.wait(INVOCATION_TIMEOUT_S):
            raise TimeoutError(f"no response within {INVOCATION_TIMEOUT_S} s")
        return inv

    def close(self):
        self.stopping = True
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------- moto


def ensure_moto() -> None:
    missing = []
    try:
        import moto.server  # noqa: F401
    except ImportError:
        missing.append("moto[server]>=5.1,<6")
    if missing:
        print(f"installing {', '.join(missing)} (local AWS emulator)...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *missing],
            check=True,
        )


# moto behind a server that answers as AWS does (see scripts/moto_keepalive.py):
# moto_server answers `Connection: close` and writes headers and body apart,
# which would charge a TCP connect and an extra wake-up per AWS call to the
# function. MOTO_SERVER=werkzeug measures with moto_server instead.
MOTO_SERVER = os.environ.get("MOTO_SERVER", "keepalive")
# --pin: the CPU the function runs on (moto and this script use the others).
PIN_CPU: int | None = None


def start_moto() -> str:
    port = free_port()
    if MOTO_SERVER == "werkzeug":
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    else:
        command = [sys.executable, str(ROOT / "scripts" / "moto_keepalive.py"), "127.0.0.1", str(port)]
    child = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    _children.append(child)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or child.poll() is not None:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)


_stack_count = 0


def create_stack(endpoint: str) -> dict:
    """A fresh table, FIFO queue and token parameter. One per cold start:
    moto's FIFO SendMessage slows down as its queue grows (O(messages))."""
    import boto3  # noqa: PLC0415  (installed with moto)

    global _stack_count
    _stack_count += 1
    kw = dict(endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    ddb, sqs, ssm = boto3.client("dynamodb", **kw), boto3.client("sqs", **kw), boto3.client("ssm", **kw)
    table = f"events-coldstart-{os.getpid()}-{_stack_count}"
    ddb.create_table(
        TableName=table,
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
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = sqs.create_queue(
        QueueName=f"callbacks-coldstart-{os.getpid()}-{_stack_count}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )["QueueUrl"]
    param = "/webhooks/coldstart/tokens"
    ssm.put_parameter(Name=param, Value=TOKENS, Type="SecureString", Overwrite=True)
    return {"table": table, "queue_url": queue_url, "param": param, "sqs": sqs}


# ------------------------------------------------------------ measurement


def proc_user_sys_ticks(pid: int) -> tuple[int, int]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def proc_cpu_ns(pid: int) -> tuple[int, int]:
    """(sum of schedstat run time over live threads in ns, utime+stime ticks)."""
    sched = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            sched += int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return sched, ticks


def proc_status(pid: int, key: str) -> int | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])  # kB
    return None


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def check_response(inv: Invocation) -> str | None:
    """None when the function answered 200 with a task id, else why not."""
    if inv.kind != "response":
        return f"runtime error: {inv.response[:200]!r}"
    try:
        resp = json.loads(inv.response)
        body = json.loads(resp.get("body") or "{}")
    except (ValueError, TypeError):
        return f"unreadable response {inv.response[:200]!r}"
    if resp.get("statusCode") != 200:
        return f"status {resp.get('statusCode')}: {str(body)[:200]}"
    events = body.get("events") or []
    if not any(e.get("task_id") for e in events):
        return f"no task in {str(body)[:200]}"
    return None


def callgrind_instructions(path: Path) -> int:
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def check_unauthorized(inv: Invocation) -> str | None:
    if inv.kind != "response":
        return f"runtime error: {inv.response[:200]!r}"
    status = json.loads(inv.response).get("statusCode")
    return None if status == 401 else f"status {status}, expected 401"


def measure_series(api, child, function: str, events: list, check, callgrind: bool) -> dict:
    """Delivers `events` one after another to the warm function; its CPU
    (and instructions under callgrind) over the series, per delivery."""
    # The function is blocked in GET /next: a quiet point to read its CPU.
    time.sleep(0.05)
    if callgrind:
        subprocess.run(["callgrind_control", "--zero", str(child.pid)], check=True, capture_output=True)
    sched0, ticks0 = proc_cpu_ns(child.pid)
    user0, sys0 = proc_user_sys_ticks(child.pid)
    latencies, failures = [], []
    t0 = time.perf_counter_ns()
    for event in events:
        inv = api.invoke(event)
        latencies.append((inv.done_ns - inv.handed_out_ns) / 1e6)
        if (why := check(inv)) is not None:
            failures.append(why)
    wall = (time.perf_counter_ns() - t0) / 1e9
    time.sleep(0.05)
    sched1, ticks1 = proc_cpu_ns(child.pid)
    user1, sys1 = proc_user_sys_ticks(child.pid)
    n = len(events)
    out = {
        "n": n,
        "failures": failures,
        "latencies": latencies,
        "wall_s": wall,
        "cpu_us": (sched1 - sched0) / 1e3 / n,
        "cpu_ticks_us": (ticks1 - ticks0) * 1e6 / CLK_TCK / n,
        "user_share": (user1 - user0) / max(1, (user1 - user0) + (sys1 - sys0)),
    }
    if callgrind:
        cg_prefix = LOG_DIR / f"callgrind-{function}"
        subprocess.run(["callgrind_control", "--dump=series", str(child.pid)], check=True, capture_output=True)
        dumps = sorted(LOG_DIR.glob(f"{cg_prefix.name}.{child.pid}.*"), key=lambda d: int(d.suffix[1:]))
        if dumps:
            out["instructions"] = callgrind_instructions(dumps[-1]) / n
    return out


def print_breakdown(function: str, breakdown: dict | None) -> None:
    """CPU (and instructions) per delivery by number of AWS calls, and the
    straight line through them: the floor without AWS calls, the cost of
    one call."""
    if not breakdown:
        return
    for kind, row in breakdown.items():
        instr = f", {row['instructions'] / 1e6:.3f} M instructions" if "instructions" in row else ""
        print(f"    {function} {kind}: {row['cpu_us']:.0f} us CPU{instr} per delivery "
              f"({row['n']} deliveries, {row['failures']} failed)", file=sys.stderr, flush=True)
    task, unauth = breakdown["task (3 AWS calls)"], breakdown["unauthorized (no AWS call)"]
    per_call = (task["cpu_us"] - unauth["cpu_us"]) / 3
    print(f"    {function}: no-call floor {unauth['cpu_us']:.0f} us; each of the 3 AWS calls of a task delivery, with "
          f"the pipeline's work around it, ~{per_call:.0f} us CPU ((task - floor) / 3)", file=sys.stderr, flush=True)


def series_summary(series: dict) -> dict:
    keep = ("n", "cpu_us", "cpu_ticks_us", "user_share", "instructions")
    return {k: series[k] for k in keep if k in series} | {"failures": len(series["failures"])}


def run_once(
    binary: Path,
    function: str,
    endpoint: str,
    n_warm: int,
    inline_tokens: bool,
    callgrind: bool = False,
    breakdown: bool = False,
) -> dict:
    stack = create_stack(endpoint)
    api = RuntimeApi()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_STREAM_NAME": "coldstart",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function}",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "EVENTS_TABLE": stack["table"],
        "CALLBACK_QUEUE_URL": stack["queue_url"],
        "RUST_LOG": "info",
    }
    if inline_tokens:
        env["WEBHOOK_TOKENS"] = TOKENS
    else:
        env["WEBHOOK_TOKENS_PARAM"] = stack["param"]
    _, make_events = EVENTS[function]
    events = list(make_events(1 + n_warm))
    log_path = LOG_DIR / f"coldstart-{function}.log"
    log = open(log_path, "ab")
    spawn_ns = time.perf_counter_ns()
    command = [str(binary)]
    if PIN_CPU is not None:
        command = ["taskset", "-c", str(PIN_CPU)] + command
    cg_prefix = LOG_DIR / f"callgrind-{function}"
    if callgrind:
        # Instruction counts: repeatable whatever else the machine is doing.
        # Collection is zeroed before the warm run and dumped after it.
        for old in LOG_DIR.glob(f"callgrind-{function}*"):
            old.unlink()
        command = ["valgrind", "--tool=callgrind", "--quiet", f"--callgrind-out-file={cg_prefix}.%p"] + command
    child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    _children.append(child)
    result: dict = {"pid": child.pid, "inline_tokens": inline_tokens}
    try:
        if not api.first_poll.wait(INIT_TIMEOUT_S) or api.init_error is not None:
            raise RuntimeError(f"{function}: no poll for work (init error: {api.init_error!r}); see {log_path}")
        result["init_ms"] = (api.next_polls[0] - spawn_ns) / 1e6
        init_sched, init_ticks = proc_cpu_ns(child.pid)  # blocked in GET /next: init's CPU is all in
        result["init_cpu_ms"] = init_sched / 1e6
        result["init_cpu_ticks_ms"] = init_ticks * 1e3 / CLK_TCK
        result["rss_after_init_kb"] = proc_status(child.pid, "VmRSS")
        if callgrind:
            # Blocked in its first GET /next: everything so far is init.
            subprocess.run(["callgrind_control", "--dump=init", str(child.pid)], check=True, capture_output=True)
            dumps = sorted(LOG_DIR.glob(f"callgrind-{function}.{child.pid}.*"))
            if dumps:
                result["init_instructions"] = callgrind_instructions(dumps[-1])
        first = api.invoke(events[0])
        if (why := check_response(first)) is not None:
            raise RuntimeError(f"{function}: first invocation failed: {why}")
        result["first_ms"] = (first.done_ns - first.handed_out_ns) / 1e6
        if n_warm:
            series = measure_series(api, child, function, events[1:], check_response, callgrind)
            result.update(
                warm_n=n_warm,
                warm_failures=len(series["failures"]),
                warm_failure_sample=series["failures"][:3],
                warm_median_ms=statistics.median(series["latencies"]),
                warm_p90_ms=pct(series["latencies"], 90),
                warm_min_ms=min(series["latencies"]),
                warm_wall_s=series["wall_s"],
                cpu_us_per_delivery=series["cpu_us"],
                cpu_ticks_us_per_delivery=series["cpu_ticks_us"],
                user_share=series["user_share"],
            )
            if "instructions" in series:
                result["warm_instructions_per_delivery"] = series["instructions"]
            if breakdown:
                # The same process, the same cache conditions: deliveries
                # that make no AWS call (wrong token: 401) and one call (a
                # redelivery: the conditional PutItem finds the record).
                unauthorized = [json.loads(json.dumps(e).replace("dev-token-", "bad-token-")) for e in events[1:]]
                duplicates = [events[-1]] * n_warm
                result["breakdown"] = {"task (3 AWS calls)": series_summary(series)}
                result["breakdown"]["duplicate (1 AWS call)"] = series_summary(
                    measure_series(api, child, function, duplicates, check_response, callgrind))
                result["breakdown"]["unauthorized (no AWS call)"] = series_summary(
                    measure_series(api, child, function, unauthorized, check_unauthorized, callgrind))
        result["peak_rss_kb"] = proc_status(child.pid, "VmHWM")
        result["rss_end_kb"] = proc_status(child.pid, "VmRSS")
    finally:
        api.close()
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        _children.remove(child)
        log.close()
    return result


def package(binary: Path, out_dir: Path, function: str) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    zip_path = out_dir / f"{function}.zip"
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        info = zipfile.ZipInfo("bootstrap", date_time=(2025, 1, 1, 0, 0, 0))
        info.external_attr = 0o755 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, binary.read_bytes(), compresslevel=9)
    return {"binary_bytes": binary.stat().st_size, "zip_bytes": zip_path.stat().st_size}


def median_of(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--functions", default=",".join(FUNCTIONS))
    ap.add_argument("--runs", type=int, default=3, help="cold starts per function (default 3)")
    ap.add_argument("--warm", type=int, default=100, help="warm invocations per cold start (default 100)")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    ap.add_argument("--out", default=None, help="JSON output (default <target>/coldstart.json)")
    ap.add_argument("--callgrind", action="store_true",
                    help="instead: one run per function under valgrind's callgrind, instructions per warm delivery "
                         "(repeatable on a busy machine); JSON to <target>/coldstart-callgrind.json")
    ap.add_argument("--breakdown", action="store_true",
                    help="after the task deliveries, as many redeliveries (1 AWS call) and wrong-token deliveries "
                         "(401, no AWS call) to the same process: the runtime loop's floor and the cost per AWS call")
    ap.add_argument("--pin", action="store_true",
                    help="run the function alone on the last CPU and moto + this script on the others, as in "
                         "Lambda where the function has its core to itself (moto's Python otherwise evicts its "
                         "caches between every call)")
    args = ap.parse_args()
    if args.callgrind and not shutil.which("valgrind"):
        ap.error("--callgrind needs valgrind (Debian/Ubuntu: apt-get install valgrind)")
    if args.pin:
        global PIN_CPU
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            ap.error("--pin needs at least 2 CPUs")
        PIN_CPU = cpus[-1]
        os.sched_setaffinity(0, set(cpus[:-1]))  # moto and the emulator inherit this

    atexit.register(_cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGALRM, lambda *_: (_cleanup(), os._exit(124)))
    signal.alarm(int(TOTAL_TIMEOUT_S))

    target = Path(args.target_dir)
    functions = [f.strip() for f in args.functions.split(",") if f.strip()]
    binaries = {f: target / "release" / f for f in functions}
    missing = [str(b) for b in binaries.values() if not b.exists()]
    if missing:
        print(f"missing release binaries: {missing}\nbuild them: cargo build --release "
              + " ".join(f"-p {f}" for f in functions), file=sys.stderr)
        return 2
    global LOG_DIR
    LOG_DIR = target

    ensure_moto()
    endpoint = start_moto()
    for function in functions:
        (target / f"coldstart-{function}.log").unlink(missing_ok=True)
    report: dict = {
        "machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname()), "clk_tck": CLK_TCK},
        "endpoint": f"moto on 127.0.0.1 (plain HTTP, {MOTO_SERVER})",
        "runs": args.runs,
        "warm_n": args.warm,
        "functions": {},
    }
    if args.callgrind:
        results = {}
        for function in functions:
            r = run_once(binaries[function], function, endpoint, args.warm, inline_tokens=False, callgrind=True,
                         breakdown=args.breakdown)
            results[function] = r
            print(f"{function:>14}: {r['warm_instructions_per_delivery'] / 1e6:7.3f} M instructions per warm task "
                  f"delivery (callgrind, {args.warm} deliveries); init {r.get('init_instructions', 0) / 1e6:.1f} M",
                  flush=True)
            print_breakdown(function, r.get("breakdown"))
        out = Path(args.out) if args.out else target / "coldstart-callgrind.json"
        out.write_text(json.dumps(results, indent=2) + "\n")
        return 0

    for function in functions:
        binary = binaries[function]
        runs = []
        for i in range(args.runs):
            r = run_once(binary, function, endpoint, args.warm, inline_tokens=False, breakdown=args.breakdown)
            runs.append(r)
            print_breakdown(function, r.get("breakdown"))
            print(f"  {function} run {i + 1}: init {r['init_ms']:.1f} ms, first {r['first_ms']:.1f} ms, "
                  f"warm median {r.get('warm_median_ms', 0):.2f} ms, cpu {r.get('cpu_us_per_delivery', 0):.0f} us, "
                  f"peak {r['peak_rss_kb'] / 1024:.1f} MiB", file=sys.stderr, flush=True)
        inline = run_once(binary, function, endpoint, 0, inline_tokens=True)
        summary = {
            "event": EVENTS[function][0],
            "init_ms": median_of(runs, "init_ms"),
            "init_inline_tokens_ms": inline["init_ms"],
            "init_cpu_ms": median_of(runs, "init_cpu_ms"),
            "init_cpu_inline_tokens_ms": inline["init_cpu_ms"],
            "first_inline_tokens_ms": inline["first_ms"],
            "first_ms": median_of(runs, "first_ms"),
            "warm_median_ms": median_of(runs, "warm_median_ms"),
            "warm_p90_ms": median_of(runs, "warm_p90_ms"),
            "cpu_us_per_delivery": median_of(runs, "cpu_us_per_delivery"),
            "cpu_ticks_us_per_delivery": median_of(runs, "cpu_ticks_us_per_delivery"),
            "cpu_user_share": median_of(runs, "user_share"),
            "peak_rss_kb": max(r["peak_rss_kb"] for r in runs),
            "warm_failures": sum(r.get("warm_failures", 0) for r in runs),
            **package(binary, target / "lambda-zip", function),
            "runs": runs + [inline],
        }
        report["functions"][function] = summary

    out = Path(args.out) if args.out else target / "coldstart.json"
    out.write_text(json.dumps(report, indent=2) + "\n")

    cols = ["function", "init ms", "init no-SSM", "init CPU ms", "first ms", "warm p50", "warm p90", "CPU/deliv us",
            "peak RSS MiB", "binary MiB", "zip MiB", "fails"]
    rows = []
    for f, s in report["functions"].items():
        rows.append([
            f,
            f"{s['init_ms']:.1f}",
            f"{s['init_inline_tokens_ms']:.1f}",
            f"{s['init_cpu_ms']:.1f}",
            f"{s['first_ms']:.1f}",
            f"{s['warm_median_ms']:.2f}" if s["warm_median_ms"] is not None else "-",
            f"{s['warm_p90_ms']:.2f}" if s["warm_p90_ms"] is not None else "-",
            f"{s['cpu_us_per_delivery']:.0f}" if s["cpu_us_per_delivery"] is not None else "-",
            f"{s['peak_rss_kb'] / 1024:.1f}",
            f"{s['binary_bytes'] / 2**20:.2f}",
            f"{s['zip_bytes'] / 2**20:.2f}",
            str(s["warm_failures"]),
        ])
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    print(f"cold start: median of {args.runs} cold starts, {args.warm} warm task deliveries each, against moto")
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths)))
    for r in rows:
        print("  ".join(v.rjust(w) for v, w in zip(r, widths)))
    print("targets: init < 20 ms, peak RSS < 32 MiB, CPU per delivery < 800 us")
    print(f"JSON: {out}")
    return 1 if any(s["warm_failures"] for s in report["functions"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
