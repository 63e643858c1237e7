//! The CPU floor of a delivery's network exchanges on this machine, with no
//! SDK, no async runtime and no parsing: a measuring aid for issue 6, never
//! used by the tests.
//!
//! A task delivery makes five HTTP exchanges on loopback: `GET /next` and
//! `POST /response` with the Runtime API, `PutItem`, `SendMessage` and
//! `UpdateItem`. This program makes the same number of keep-alive HTTP/1.1
//! exchanges with `instant_aws.py` (plain blocking `std::net`, one write
//! per request, a read until the body is complete) and reports the
//! thread's CPU per group of exchanges from `/proc/thread-self/schedstat`.
//! Whatever a delivery costs, it cannot cost less than this.
//!
//! Build and run (see docs/performance.md, "Session 4: where a delivery's
//! CPU goes"):
//!   rustc -O -o /tmp/roundtrip_floor scripts/experiments/roundtrip_floor.rs
//!   python3 scripts/experiments/instant_aws.py 4599 &
//!   taskset -c 1 /tmp/roundtrip_floor 127.0.0.1:4599 5 2000
//! and with `INSTANT_DELAY_MS=10` on the server: the same exchanges, each
//! answered 10 ms later.

use std::io::{Read, Write};
use std::net::TcpStream;

fn cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    text.split_whitespace().next().and_then(|n| n.parse().ok()).expect("schedstat run time")
}

/// One request (a DynamoDB-sized JSON body, the headers SigV4 adds) and its
/// complete response.
fn exchange(stream: &mut TcpStream, request: &[u8], buf: &mut Vec<u8>) {
    stream.write_all(request).expect("write");
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).expect("read");
        assert!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return;
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let address = args.get(1).map(String::as_str).unwrap_or("127.0.0.1:4599");
    let per_group: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(5);
    let groups: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(2000);

    let body = format!(r#"{{"TableName":"events","Item":{{"pk":{{"S":"truecaller#{}"}}}}}}"#, "x".repeat(1400));
    let request = format!(
        "POST / HTTP/1.1\r\nhost: dynamodb.ap-south-1.amazonaws.com\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amz-target: DynamoDB_20120810.PutItem\r\nx-amz-date: 20261121T000000Z\r\n\
         authorization: AWS4-HMAC-SHA256 Credential=test/20261121/ap-south-1/dynamodb/aws4_request, \
         SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-target, Signature={}\r\n\
         content-length: {}\r\n\r\n{}",
        "0".repeat(64),
        body.len(),
        body
    );
    let mut stream = TcpStream::connect(address).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut buf = Vec::with_capacity(16 * 1024);
    for _ in 0..50 {
        exchange(&mut stream, request.as_bytes(), &mut buf);
    }
    let start = cpu_ns();
    for _ in 0..groups {
        for _ in 0..per_group {
            exchange(&mut stream, request.as_bytes(), &mut buf);
        }
    }
    let spent = cpu_ns() - start;
    println!(
        "{per_group} exchanges per group, {groups} groups: {:.1} us CPU per group, {:.1} us per exchange",
        spent as f64 / groups as f64 / 1e3,
        spent as f64 / (groups * per_group) as f64 / 1e3
    );
}
