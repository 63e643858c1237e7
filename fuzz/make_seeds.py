#!/usr/bin/env python3
"""Writes the fuzz seed corpora from the recorded requests in events/**.

Each recorded API Gateway event becomes one seed per target, in the input
layout the target reads (fuzz/src/lib.rs, fuzz/src/request.rs), plus a
libFuzzer dictionary of the JSON keys and values seen. Run from anywhere:
    python3 fuzz/make_seeds.py
"""
import base64
import json
import pathlib
import re
import urllib.parse

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
TRIGGERS = re.findall(r'"([a-z-]+)"', re.search(
    r"pub const TRIGGERS: \[&str; 16\] = \[(.*?)\];",
    (ROOT / "shared/payloads/src/providers/smartflo.rs").read_text(), re.S).group(1))
assert len(TRIGGERS) == 16, TRIGGERS
CONTENT_TYPES = [None, "application/json", "application/json", "text/plain",
                 "application/x-www-form-urlencoded", "application/cloudevents+json",
                 "application/xml", "multipart/form-data"]
PARSER_TARGET = {"truecaller": "truecaller", "curious-thing": "curious_thing",
                 "smartflo": "smartflo", "wavix": "wavix"}
PROVIDER_INDEX = {"truecaller": 0, "curious-thing": 1, "smartflo": 2, "wavix": 3}


def parts(event):
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    method = event["requestContext"]["http"]["method"].upper()
    ct = headers.get("content-type")
    ct = ct.split(";")[0].strip().lower() if ct else None
    query = "&".join(p for p in (event.get("rawQueryString") or "").split("&")
                     if p and not p.startswith("key="))
    body = event.get("body") or ""
    body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    path = event.get("rawPath") or ""
    trigger = (event.get("pathParameters") or {}).get("trigger") or path.rstrip("/").rsplit("/", 1)[-1]
    return method, ct, headers, query, trigger, body


def main():
    keys = set()
    written = 0
    for file in sorted((ROOT / "events").glob("*/*.json")):
        provider = file.parent.name
        if provider not in PARSER_TARGET:
            continue
        text = file.read_text()
        event = json.loads(text)
        method, ct, headers, query, trigger, body = parts(event)
        # Parser target seed: selector, trigger, query \0 body.
        m = {"POST": 0, "GET": 2}.get(method, 3)
        c = CONTENT_TYPES.index(ct) if ct in CONTENT_TYPES else 6
        t = TRIGGERS.index(trigger) if trigger in TRIGGERS else 17
        seed = bytes([m | c << 2, t]) + query.encode() + b"\0" + body
        out = FUZZ / "seeds" / PARSER_TARGET[provider]
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{file.stem}.bin").write_bytes(seed)
        # Request target seeds: built mode and raw mode (the event itself).
        rm = {"POST": 0, "GET": 1}.get(method, 3)
        enc = 1 if "content-encoding" in headers else 0
        b64 = 1 if event.get("isBase64Encoded") else 0
        sel = PROVIDER_INDEX[provider] | rm << 2 | b64 << 4 | enc << 6
        suffix = trigger.encode() if provider == "smartflo" else b""
        built = bytes([sel]) + (ct or "").encode() + b"\0" + query.encode() + b"\0" + suffix + b"\0" + body
        out = FUZZ / "seeds" / "request"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{provider}-{file.stem}.bin").write_bytes(built)
        (out / f"{provider}-{file.stem}-raw.bin").write_bytes(bytes([0x80 | PROVIDER_INDEX[provider]]) + text.encode())
        written += 3
        try:
            value = json.loads(body)
        except ValueError:
            value = None
            keys.update(k for k, _ in urllib.parse.parse_qsl(body.decode(errors="replace")))
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, dict):
                keys.update(v.keys())
                stack.extend(v.values())
            elif isinstance(v, list):
                stack.extend(v)
    tokens = sorted(keys | {"null", "true", "false", "{", "}", "[", "]", ":", ",", "\"", "\\u0000", "1e999",
                            "-0", "NaN", "$", "%", "+", "&", "="})
    with open(FUZZ / "json.dict", "w") as f:
        for tok in tokens:
            esc = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else
                          "".join(f"\\x{b:02X}" for b in c.encode()) for c in tok)
            f.write(f'"{esc}"\n')
    print(f"{written} seeds, {len(tokens)} dictionary entries")


if __name__ == "__main__":
    main()
