#!/usr/bin/env python3
"""Bulk transfer, rsmtp against msmtp and curl in the same run: a 100 MB message
(76-character lines, LF line ends as a caller writes them) to a sink that reads fast
(rsmtp-testserver's example bench_sink: 1 MiB reads, rustls, the test CA) on
loopback, over plain SMTP and over implicit TLS. (Python's ssl module and Postfix's
smtp-sink are slower than the clients: they would be what is measured.)
Reported: median MB/s (10^6 bytes of input per second of wall time, start to exit)
and the ratios rsmtp/msmtp and rsmtp/curl of those rates (above 1 is faster).

    cargo build --release -p rsmtp-testserver --example bench_sink
    python3 benches/bulk.py [--size-mb 100] [--runs 3] [--rsmtp target/release/rsmtp]

curl sends the file as it is (its SMTP upload dot-stuffs but leaves LF line ends),
msmtp and rsmtp turn LF into CRLF, so they send 1/77 more bytes. As a ceiling, the
"socket" column is the same bytes written by Python in 1 MiB sendall calls to the
same sink (plain only).
Needs: msmtp, curl, python3.
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from ports import free_port, wait_port
from rtt import curl_cmd, time_runs, write_rc

HERE = os.path.dirname(os.path.abspath(__file__))
SINK = os.path.join(HERE, "..", "target", "release", "examples", "bench_sink")


def make_message(path, size):
    with open(path, "wb") as f:
        f.write(b"From: bench@example.org\nTo: sink@example.org\nSubject: bulk\n\n")
        line = b"x" * 76 + b"\n"
        block = line * 13_000
        written = 0
        while written < size:
            f.write(block)
            written += len(block)


def raw_socket_seconds(port, msg):
    """The same message sent by Python straight over a socket, SMTP framing around it."""
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s, open(msg, "rb") as f:
        r = s.makefile("rb")
        r.readline()
        s.sendall(b"EHLO x\r\nMAIL FROM:<a@x>\r\nRCPT TO:<b@x>\r\nDATA\r\n")
        for _ in range(4):
            while r.readline()[3:4] == b"-":
                pass
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            s.sendall(chunk)
        s.sendall(b"\r\n.\r\nQUIT\r\n")
        r.readline()
    return time.monotonic() - t0


def rows(rsmtp, msmtp, size_mb, runs):
    if not os.path.exists(SINK):
        sys.exit(f"{SINK} not found: run "
                 "`cargo build --release -p rsmtp-testserver --example bench_sink` first")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        ca = os.path.join(tmp, "tls", "ca.pem")
        msg = os.path.join(tmp, "msg")
        make_message(msg, size_mb * 1_000_000)
        size = os.path.getsize(msg)
        procs = []
        try:
            for tls in ("plain", "implicit"):
                port = free_port()
                cmd = [SINK, str(port)]
                if tls == "implicit":
                    cmd += ["--tls", os.path.join(tmp, "tls")]
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
                procs.append(proc)
                proc.stdout.readline()
                wait_port(port)
                rc = os.path.join(tmp, f"rc-{tls}")
                write_rc(rc, port, tls, ca)
                cmds = {"msmtp": [msmtp, "-C", rc, "b@example.net"],
                        "rsmtp": [rsmtp, "-C", rc, "b@example.net"],
                        "curl": curl_cmd(port, tls, ca, ["b@example.net"], msg)}
                med = time_runs(cmds, runs, msg)
                rate = {k: size / v / 1e6 for k, v in med.items()}
                if tls == "plain":
                    rate["socket"] = size / statistics.median(
                        raw_socket_seconds(port, msg) for _ in range(runs)) / 1e6
                label = "plain TCP" if tls == "plain" else "implicit TLS"
                results.append((f"{size_mb} MB, {label}", rate))
        finally:
            for p in procs:
                p.kill()
                p.wait()
    return results


def print_rows(results, runs):
    print(f"# bulk to bench_sink on loopback, {runs} runs each, alternating; median MB/s")
    print(f"{'case':<22}{'msmtp':>8}{'curl':>8}{'rsmtp':>8}{'socket':>8}{'/msmtp':>8}{'/curl':>8}")
    for case, r in results:
        sock = f"{r['socket']:>8.0f}" if "socket" in r else f"{'-':>8}"
        print(f"{case:<22}{r['msmtp']:>8.0f}{r['curl']:>8.0f}{r['rsmtp']:>8.0f}{sock}"
              f"{r['rsmtp'] / r['msmtp']:>8.2f}{r['rsmtp'] / r['curl']:>8.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=100)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rsmtp", default="target/release/rsmtp")
    ap.add_argument("--msmtp", default="/usr/bin/msmtp")
    args = ap.parse_args()
    print_rows(rows(args.rsmtp, args.msmtp, args.size_mb, args.runs), args.runs)


if __name__ == "__main__":
    main()
