#!/usr/bin/env python3
"""Phone numbers at cold start (issue 15): what the `phonenumber` crate's
metadata costs at init and on the first request, measured the way
scripts/coldstart.py measures a function (spawn -> first poll for work,
wall and the process's CPU; the first request; CPU per warm delivery; peak
RSS), beside today's truecaller function measured by coldstart.py itself in
the same run.

It writes a throwaway crate under <target>/phone-coldstart/ (its own
workspace; nothing is committed): a Lambda runtime loop with nothing but
phone numbers in it. Per event it reads the two numbers of a Truecaller
`cmb` body (a valid one and an invalid one, as recorded) to E.164 with the
reader PHONE_READER names:

  none    no reading at all: the harness's own floor
  ours    today's reader, `payloads::PhoneNumber::parse` (built without
          the crate: today's package)
  eager   the crate, its whole database (`metadata::DATABASE`) loaded during
          init on the main thread, before the first poll
  thread  the crate, the whole database loaded on a thread spawned at the
          start of init; the first parse waits for it if it is not done
  lazy    the crate, the whole database loaded on the first parse
  region  the crate, lazily per region: a database of India's metadata only
          (one region's blob, built from the crate's XML with its own
          loader), loaded on the first parse; E.164 written by hand, as
          the crate's formatter loads the whole database whatever it is given

The harness has no AWS SDK, so its init is only the reader's: today's
function's init plus a variant's init is what that variant would cost the
function (the `thread` variant can hide behind init's AWS calls only where a
second CPU is free).

Usage:
  cargo build --release -p truecaller
  python3 scripts/phone-coldstart.py [--runs 5] [--warm 50] [--pin]

Prints a table (median and range per variant) and writes JSON to
<target>/phone-coldstart.json. Needs what coldstart.py needs.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import coldstart  # noqa: E402

ROOT = coldstart.ROOT

CARGO_TOML = """\
[package]
name = "phone-coldstart"
version = "0.0.0"
edition = "2024"
publish = false

[features]
default = ["with-crate"]
with-crate = ["dep:phonenumber", "dep:postcard"]

[dependencies]
payloads = {{ path = "{root}/shared/payloads" }}
serde_json = "1"
phonenumber = {{ version = "0.3", optional = true }}
postcard = {{ version = "1", default-features = false, features = ["alloc"], optional = true }}

[build-dependencies]
phonenumber = "0.3"
postcard = {{ version = "1", default-features = false, features = ["alloc"] }}

# Its own workspace, with the repository's release profile.
[workspace]

[profile.release]
opt-level = "s"
lto = "fat"
codegen-units = 1
strip = "symbols"
"""

BUILD_RS = r"""
// India's metadata alone, as the crate's own loader reads it from its XML.
use std::io::BufReader;
fn main() {
    let xml = std::env::var("PHONENUMBER_XML").expect("PHONENUMBER_XML");
    println!("cargo:rerun-if-env-changed=PHONENUMBER_XML");
    let all = phonenumber::metadata::loader::load(BufReader::new(std::fs::File::open(&xml).unwrap())).unwrap();
    let india: Vec<_> = all.into_iter().filter(|m| m.id.as_deref() == Some("IN")).collect();
    assert_eq!(india.len(), 1);
    let out = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("in.bin");
    std::fs::write(out, postcard::to_allocvec(&india).unwrap()).unwrap();
}
"""

MAIN_RS = r"""
//! A Lambda runtime loop with nothing but phone numbers in it
//! (scripts/phone-coldstart.py; a measuring aid): per event, the two numbers
//! of a Truecaller `cmb` body read to E.164 by the reader PHONE_READER names.
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::TcpStream;

fn http(api: &str, request: &str) -> (String, String) {
    let mut stream = TcpStream::connect(api).expect("runtime api");
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").expect("headers");
    (head.to_owned(), body.to_owned())
}

#[cfg(feature = "with-crate")]
mod with_crate {
    use std::sync::LazyLock;
    use phonenumber::metadata::{DATABASE, Database};
    use phonenumber::{Mode, country};
    pub static INDIA: LazyLock<Database> = LazyLock::new(|| {
        let meta: Vec<phonenumber::metadata::loader::Metadata> =
            postcard::from_bytes(include_bytes!(concat!(env!("OUT_DIR"), "/in.bin"))).unwrap();
        Database::from(meta).unwrap()
    });
    pub fn load_all() { std::hint::black_box(&*DATABASE); }
    pub fn e164(raw: &str, india_only: bool) -> Option<String> {
        let db: &Database = if india_only { &INDIA } else { &DATABASE };
        let number = phonenumber::parse_with(db, Some(country::Id::IN), raw).ok()?;
        if !phonenumber::is_valid_with(db, &number) {
            return None;
        }
        if india_only {
            // Not `format_with(db)`: its Display loads the whole DATABASE
            // whatever database it is given (formatter.rs,
            // `self.database.unwrap_or(&DATABASE)` derefs the Lazy).
            return Some(format!("+{}{}", number.code().value(), number.national()));
        }
        Some(number.format_with(db).mode(Mode::E164).to_string())
    }
}

fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API");
    let reader = std::env::var("PHONE_READER").unwrap_or_default();
    #[cfg(feature = "with-crate")]
    match reader.as_str() {
        "eager" => with_crate::load_all(),
        "thread" => { std::thread::spawn(with_crate::load_all); }
        _ => {}
    }
    let next = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\nConnection: close\r\n\r\n");
    loop {
        let (head, event) = http(&api, &next);
        let id = head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("lambda-runtime-aws-request-id").then(|| v.trim().to_owned())
        }).expect("request id");
        let event: serde_json::Value = serde_json::from_str(&event).unwrap();
        let body: serde_json::Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        let mut numbers = Vec::new();
        for field in ["client_number", "business_number"] {
            let raw = body["cmb_payload"][field].as_str().unwrap();
            let e164 = match reader.as_str() {
                "none" => (field == "client_number").then(|| format!("+{raw}")), // no reading: what the readers say
                #[cfg(feature = "with-crate")]
                "eager" | "thread" | "lazy" => with_crate::e164(raw, false),
                #[cfg(feature = "with-crate")]
                "region" => with_crate::e164(raw, true),
                _ => payloads::PhoneNumber::parse(raw, payloads::PhoneRegion::INDIA).ok().map(|p| p.as_str().to_owned()),
            };
            numbers.push(black_box(e164).unwrap_or_else(|| "refused".to_owned()));
        }
        let inner = serde_json::json!({"events": [{"task_id": numbers.join(",")}]}).to_string();
        let response = serde_json::json!({"statusCode": 200, "body": inner}).to_string();
        let post = format!(
            "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{response}",
            response.len()
        );
        http(&api, &post);
    }
}
"""


def phonenumber_xml() -> Path:
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked", "--manifest-path", str(ROOT / "Cargo.toml")],
        check=True, capture_output=True, text=True).stdout)
    for package in meta["packages"]:
        if package["name"] == "phonenumber":
            return Path(package["manifest_path"]).parent / "assets" / "PhoneNumberMetadata.xml"
    sys.exit("phonenumber is not in the workspace's dependencies")


def build(target: Path) -> dict[str, Path]:
    """The harness twice: with the crate, and without it (today's package)."""
    crate = target / "phone-coldstart"
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / "Cargo.toml").write_text(CARGO_TOML.format(root=ROOT))
    (crate / "build.rs").write_text(BUILD_RS)
    (crate / "src" / "main.rs").write_text(MAIN_RS)
    # The workspace's versions of every dependency.
    shutil.copy(ROOT / "Cargo.lock", crate / "Cargo.lock")
    env = dict(os.environ, CARGO_TARGET_DIR=str(target / "phone-coldstart-target"),
               PHONENUMBER_XML=str(phonenumber_xml()))
    out = {}
    for name, flags in (("without-crate", ["--no-default-features"]), ("with-crate", [])):
        subprocess.run(["cargo", "build", "--release", "--manifest-path", str(crate / "Cargo.toml"), *flags],
                       check=True, env=env)
        binary = target / "phone-coldstart-target" / "release" / "phone-coldstart"
        out[name] = target / f"phone-coldstart-{name}"
        shutil.copy(binary, out[name])
    return out


def check_numbers(inv) -> str | None:
    if inv.kind != "response":
        return f"runtime error: {inv.response[:200]!r}"
    body = json.loads(json.loads(inv.response)["body"])
    numbers = body["events"][0]["task_id"]
    # The recorded business number 910987654321 is not a valid Indian number.
    return None if numbers == "+911234567890,refused" else f"read {numbers!r}"


def process_cpu_ns(pid: int) -> float:
    """The process's CPU so far. schedstat (exact) sums the live threads
    only; /proc/<pid>/stat's ticks (10 ms) also hold the threads that have
    exited, such as the `thread` variant's loader: the larger of the two."""
    sched, ticks = coldstart.proc_cpu_ns(pid)
    return max(sched, ticks * 1e9 / coldstart.CLK_TCK)


def run_harness(binary: Path, reader: str, n_warm: int) -> dict:
    """One cold start of the harness, timed as coldstart.run_once times a
    function: init (spawn -> first poll) wall and CPU, the first request,
    CPU per warm delivery, peak RSS."""
    api = coldstart.RuntimeApi()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
           "PHONE_READER": reader}
    events = list(coldstart.truecaller_events(1 + n_warm))
    command = [str(binary)]
    if coldstart.PIN_CPU is not None:
        command = ["taskset", "-c", str(coldstart.PIN_CPU)] + command
    spawn_ns = time.perf_counter_ns()
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    coldstart._children.append(child)
    try:
        if not api.first_poll.wait(coldstart.INIT_TIMEOUT_S):
            raise RuntimeError(f"{reader}: no poll for work")
        r = {"init_ms": (api.next_polls[0] - spawn_ns) / 1e6}
        cpu0 = process_cpu_ns(child.pid)
        r["init_cpu_ms"] = cpu0 / 1e6
        first = api.invoke(events[0])
        if (why := check_numbers(first)) is not None:
            raise RuntimeError(f"{reader}: first request: {why}")
        r["first_ms"] = (first.done_ns - first.handed_out_ns) / 1e6
        while len(api.next_polls) < 2:  # back in GET /next: the first request's CPU is all in
            time.sleep(0.001)
        time.sleep(0.02)
        cpu1 = process_cpu_ns(child.pid)
        r["first_cpu_ms"] = (cpu1 - cpu0) / 1e6
        series = coldstart.measure_series(api, child, "phone", events[1:], check_numbers, False)
        if series["failures"]:
            raise RuntimeError(f"{reader}: {series['failures'][:3]}")
        r["cpu_us_per_delivery"] = series["cpu_us"]
        r["peak_rss_kb"] = coldstart.proc_status(child.pid, "VmHWM")
        return r
    finally:
        api.close()
        child.kill()
        child.wait(timeout=5)


def spread(values: list[float], digits: int = 1) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="cold starts per variant (default 5)")
    ap.add_argument("--warm", type=int, default=50, help="warm deliveries per cold start (default 50)")
    ap.add_argument("--pin", action="store_true", help="the function alone on the last CPU (as coldstart.py --pin)")
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    args = ap.parse_args()
    target = Path(args.target_dir).resolve()
    today = target / "release" / "truecaller"
    if not today.exists():
        ap.error(f"missing {today}: cargo build --release -p truecaller")
    if args.pin:
        cpus = sorted(os.sched_getaffinity(0))
        coldstart.PIN_CPU = cpus[-1]
        os.sched_setaffinity(0, set(cpus[:-1]))
    binaries = build(target)

    atexit.register(coldstart._cleanup)
    signal.signal(signal.SIGTERM, coldstart._on_signal)
    signal.signal(signal.SIGINT, coldstart._on_signal)
    coldstart.LOG_DIR = target
    coldstart.ensure_moto()
    endpoint = coldstart.start_moto()

    variants = [("none", "without-crate"), ("ours", "without-crate"), ("eager", "with-crate"),
                ("thread", "with-crate"), ("lazy", "with-crate"), ("region", "with-crate")]
    results: dict[str, list[dict]] = {"today": [], **{v: [] for v, _ in variants}}
    for i in range(args.runs):  # interleaved, so the machine's load drifts over every variant alike
        r = coldstart.run_once(today, "truecaller", endpoint, args.warm, inline_tokens=False)
        results["today"].append({k: r.get(k) for k in ("init_ms", "init_cpu_ms", "first_ms", "cpu_us_per_delivery",
                                                        "peak_rss_kb")})
        for reader, build_name in variants:
            results[reader].append(run_harness(binaries[build_name], reader, args.warm))
        print(f"  run {i + 1} of {args.runs} done", file=sys.stderr, flush=True)

    sizes = {name: coldstart.package(path, target / "lambda-zip", f"phone-coldstart-{name}")
             for name, path in binaries.items()}
    sizes["truecaller"] = coldstart.package(today, target / "lambda-zip", "truecaller")
    out = target / "phone-coldstart.json"
    out.write_text(json.dumps({"runs": args.runs, "warm": args.warm, "results": results, "sizes": sizes},
                              indent=2) + "\n")

    print(f"{args.runs} cold starts each, {args.warm} warm deliveries; median (min–max)")
    print("variant   init ms           init CPU ms       first ms          first CPU ms      CPU/delivery us   peak RSS MiB")
    for name, rs in results.items():
        cols = [spread([r["init_ms"] for r in rs]), spread([r["init_cpu_ms"] for r in rs]),
                spread([r["first_ms"] for r in rs]),
                spread([r["first_cpu_ms"] for r in rs]) if "first_cpu_ms" in rs[0] else "-",
                spread([r["cpu_us_per_delivery"] for r in rs], 0), f"{max(r['peak_rss_kb'] for r in rs) / 1024:.1f}"]
        print(f"{name:<9} " + " ".join(f"{c:<17}" for c in cols))
    print("zip (deflate -9): " + ", ".join(f"{n} {s['zip_bytes']:,} B" for n, s in sizes.items()))
    print(f"JSON: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
