#!/usr/bin/env python3
"""Round trips, rsmtp against msmtp in the same run, through benches/delay_proxy.py in
front of a loopback smtp-sink: the wall time of one delivery divided by the RTT is the
number of round trips a user on a real network pays.

    python3 benches/rtt.py [--rtt 50] [--runs 5] [--rsmtp target/release/rsmtp]

Rows: a small message (plain SMTP, smtp-sink offers PIPELINING), and 1000 recipients.
Needs: msmtp, postfix's smtp-sink (/usr/sbin/smtp-sink), python3.
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

HERE = os.path.dirname(os.path.abspath(__file__))




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtt", type=float, default=50.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rsmtp", default="target/release/rsmtp")
    ap.add_argument("--msmtp", default="/usr/bin/msmtp")
    args = ap.parse_args()

    sink_port, proxy_port = free_port(), free_port()
    sink_cmd = ["/usr/sbin/smtp-sink"]
    if os.geteuid() == 0:
        sink_cmd += ["-u", "nobody"]
    sink = subprocess.Popen(sink_cmd + [f"127.0.0.1:{sink_port}", "200"])
    proxy = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "delay_proxy.py"), str(proxy_port), str(sink_port), str(args.rtt)],
        stdout=subprocess.PIPE,
    )
    proxy.stdout.readline()
    wait_port(sink_port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rc = os.path.join(tmp, "msmtprc")
            with open(rc, "w") as f:
                f.write(f"defaults\nauth off\ntls off\ntimeout 30\naccount default\nhost 127.0.0.1\nport {proxy_port}\nfrom s@example.org\n")
            os.chmod(rc, 0o600)
            msg = os.path.join(tmp, "msg")
            with open(msg, "w") as f:
                f.write("From: s@example.org\nTo: a@example.net\nSubject: rtt\n"
                        "Date: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <rtt@x>\n\nhello\n")
            many = [f"r{i:04}@example.net" for i in range(1000)]
            rows = [("small message", ["a@example.net"]), ("1000 recipients", many)]
            print(f"RTT {args.rtt:.0f} ms, {args.runs} runs each, alternating; median wall / RTT")
            print(f"{'case':<18}{'msmtp RTTs':>12}{'rsmtp RTTs':>12}{'ratio':>8}")
            for name, rcpts in rows:
                times = {"msmtp": [], "rsmtp": []}
                for _ in range(args.runs):
                    for prog, path in (("msmtp", args.msmtp), ("rsmtp", args.rsmtp)):
                        with open(msg, "rb") as stdin:
                            t0 = time.monotonic()
                            r = subprocess.run([path, "-C", rc, *rcpts], stdin=stdin,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                            times[prog].append(time.monotonic() - t0)
                        if r.returncode != 0:
                            sys.exit(f"{prog} failed: {r.stderr.decode()}")
                m = statistics.median(times["msmtp"]) * 1000 / args.rtt
                s = statistics.median(times["rsmtp"]) * 1000 / args.rtt
                print(f"{name:<18}{m:>12.2f}{s:>12.2f}{s / m:>8.2f}")
    finally:
        proxy.kill()
        sink.kill()


if __name__ == "__main__":
    main()
