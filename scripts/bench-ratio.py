#!/usr/bin/env python3
"""Prints the parser benchmarks' ratio table (issue 6) from criterion's output.

Reads <target>/criterion/<provider>/{parse,floor_json,floor_form}/<event>/
new/{benchmark,estimates}.json as written by
`cargo bench -p payloads --bench parsers`, and prints per provider and event:
the parser's time (decode + validate + normalise + task decision), the
floor's time (the same bytes into serde_json::Value, or for Smartflo's
GET/form deliveries the form pairs into a Vec), and their ratio.

Targets are reported, not asserted: the exit status is 0 whenever the table
could be printed. `--json FILE` also writes the rows as JSON.

Usage: python3 scripts/bench-ratio.py [--target-dir DIR] [--stat median|mean] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 2.0


def load(criterion: Path, stat: str) -> dict:
    """{(provider, event): {"parse": ns, "floor": ns, "floor_kind": ..., "bytes": n}}"""
    rows: dict = {}
    for bench in criterion.glob("*/*/*/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        estimates = json.loads((bench.parent / "estimates.json").read_text())
        ns = estimates[stat]["point_estimate"]
        provider, function, event = meta["group_id"], meta["function_id"], meta["value_str"]
        row = rows.setdefault((provider, event), {})
        throughput = meta.get("throughput") or {}
        if "Bytes" in throughput:
            row["bytes"] = throughput["Bytes"]
        if function == "parse":
            row["parse"] = ns
        elif function.startswith("floor_"):
            row["floor"] = ns
            row["floor_kind"] = function.removeprefix("floor_")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target")))
    ap.add_argument("--stat", default="median", choices=["median", "mean"])
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    criterion = Path(args.target_dir) / "criterion"
    rows = load(criterion, args.stat)
    complete = {k: v for k, v in rows.items() if "parse" in v and "floor" in v}
    if not complete:
        print(f"no results under {criterion}: run `cargo bench -p payloads --bench parsers` first", file=sys.stderr)
        return 1

    order = {"truecaller": 0, "curious-thing": 1, "smartflo": 2, "wavix": 3}
    keys = sorted(complete, key=lambda k: (order.get(k[0], 9), k[1]))
    table = []
    for provider, event in keys:
        r = complete[(provider, event)]
        table.append({
            "provider": provider,
            "event": event,
            "bytes": r.get("bytes"),
            "parse_ns": r["parse"],
            "floor_ns": r["floor"],
            "floor": r["floor_kind"],
            "ratio": r["parse"] / r["floor"],
        })

    headers = ["provider", "event", "bytes", "parse ns", "floor ns", "floor", "ratio", ""]
    lines = [[
        t["provider"], t["event"], str(t["bytes"] or ""), f"{t['parse_ns']:.0f}", f"{t['floor_ns']:.0f}",
        t["floor"], f"{t['ratio']:.2f}", "over 2x" if t["ratio"] > TARGET_RATIO else "",
    ] for t in table]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    right = {2, 3, 4, 6}
    fmt = lambda cells: "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))  # noqa: E731
    print(f"parser vs floor ({args.stat} of criterion's samples; target: ratio <= {TARGET_RATIO:g})")
    print(fmt(headers).rstrip())
    for line in lines:
        print(fmt(line).rstrip())

    print()
    print("per provider (geometric mean of ratios, worst, events over 2x):")
    for provider in sorted({t["provider"] for t in table}, key=lambda p: order.get(p, 9)):
        ratios = [t["ratio"] for t in table if t["provider"] == provider]
        geo = 1.0
        for x in ratios:
            geo *= x
        geo **= 1 / len(ratios)
        over = sum(x > TARGET_RATIO for x in ratios)
        print(f"  {provider:<14} {len(ratios):>3} events  geomean {geo:5.2f}  worst {max(ratios):5.2f}  over 2x: {over}")

    phone = []
    for bench in criterion.glob("phone/*/*/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        ns = json.loads((bench.parent / "estimates.json").read_text())[args.stat]["point_estimate"]
        phone.append((meta["function_id"], meta["value_str"], ns))
    if phone:
        print()
        print("phone numbers (where parser time goes):")
        for function, value, ns in sorted(phone):
            print(f"  {function:<24} {value:<16} {ns:8.0f} ns")

    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
