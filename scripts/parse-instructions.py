#!/usr/bin/env python3
"""Instructions per parse and per floor for every recorded event (issue 6).

Deterministic companion of `scripts/bench-ratio.py`: builds
`shared/payloads/examples/parse_instructions.rs` with the bench profile
(= release: opt-level "s", fat LTO, what ships; symbols kept), runs it once
under `valgrind --tool=callgrind` with a dump after each `measured_parse` /
`measured_floor` loop (and after a checkpoint just before it), and prints
per event: instructions per parse + task decision, per floor, and the ratio.

Usage: python3 scripts/parse-instructions.py [--filter SUBSTRING] [-n N] [--json FILE]
       [--compare FILE]   (a --json file of an earlier run: adds a "before" column)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0


def build() -> Path:
    env = dict(os.environ, CARGO_PROFILE_BENCH_STRIP="none", CARGO_PROFILE_BENCH_DEBUG="line-tables-only")
    out = subprocess.run(
        ["cargo", "build", "--profile", "bench", "-p", "payloads", "--example", "parse_instructions",
         "--message-format=json-render-diagnostics"],
        cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "parse_instructions" and msg.get("executable"):
            return Path(msg["executable"])
    sys.exit("no parse_instructions executable in cargo's output")


def measure(exe: Path, n: int, filter_: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        run = subprocess.run(
            # Wildcards and --toggle-collect together with --dump-after give
            # empty dumps (valgrind 3.x): exact names, and a dump after a
            # `checkpoint` call just before each loop instead.
            ["valgrind", "--tool=callgrind", "--cache-sim=no",
             *(f"--dump-after=parse_instructions::{f}" for f in ("checkpoint", "measured_parse", "measured_floor")),
             f"--callgrind-out-file={out}", str(exe), str(n), filter_],
            check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        labels = [line.split() for line in run.stdout.splitlines() if line.strip()]
        dumps = sorted(Path(tmp).glob("cg.out.*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
        totals = []
        for dump in dumps[1::2]:  # dumps alternate: up to a checkpoint, then the loop
            m = re.search(r"^(?:totals|summary): (\d+)", dump.read_text(errors="replace"), re.M)
            totals.append(int(m.group(1)) if m else 0)
        if len(totals) < len(labels):
            sys.exit(f"{len(labels)} loops but {len(totals)} callgrind dumps")
    rows: dict[str, dict] = {}
    for (event, kind, count), total in zip(labels, totals):
        row = rows.setdefault(event, {"event": event})
        per = total / int(count)
        if kind == "parse":
            row["parse"] = per
        else:
            row["floor"] = per
            row["floor_kind"] = kind.removeprefix("floor_")
    return list(rows.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--filter", default="")
    ap.add_argument("-n", type=int, default=50, help="iterations per loop (default 50)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--compare", default=None)
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("valgrind not found: it counts the instructions (Debian/Ubuntu: apt-get install valgrind)")

    rows = measure(build(), args.n, args.filter)
    before = {}
    if args.compare:
        before = {r["event"]: r for r in json.loads(Path(args.compare).read_text())}
    print("instructions per parse + task decision and per floor (callgrind; target: ratio <= 2)")
    head = f"{'event':<56} {'parse':>9} {'floor':>8} {'ratio':>6}"
    if before:
        head += f" {'before':>9} {'ratio':>6}"
    print(head)
    per_provider: dict[str, list[float]] = {}
    for r in rows:
        ratio = r["parse"] / r["floor"]
        r["ratio"] = ratio
        per_provider.setdefault(r["event"].split("/")[0], []).append(ratio)
        line = f"{r['event']:<56} {r['parse']:>9.0f} {r['floor']:>8.0f} {ratio:>6.2f}"
        if r["event"] in before:
            b = before[r["event"]]
            line += f" {b['parse']:>9.0f} {b['parse'] / b['floor']:>6.2f}"
        print(line + ("  over 2x" if ratio > TARGET_RATIO else ""))
    print("\nper provider (geometric mean of ratios, worst, events over 2x):")
    for provider, ratios in per_provider.items():
        geo = math.exp(sum(map(math.log, ratios)) / len(ratios))
        over = sum(r > TARGET_RATIO for r in ratios)
        print(f"  {provider:<14} {len(ratios):>3} events  geomean {geo:5.2f}  worst {max(ratios):5.2f}  over 2x: {over}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
