#!/usr/bin/env python3
"""Benchmark rsmtp against msmtp in the same run, against a loopback smtp-sink.

Runs the two alternately (so machine noise hits both alike) and reports, for each
message size, the median wall time of each, the ratio rsmtp/msmtp, and the peak RSS of
each (from wait4's rusage). Ratios are what matter; absolute times depend on the machine.

    python3 benches/compare.py [--runs N] [--rsmtp target/release/rsmtp]

Then the round-trip rows (benches/rtt.py: 50 ms delay proxy; plain, 1000 recipients,
STARTTLS+AUTH, implicit TLS, with curl as a second yardstick) and the bulk rows
(benches/bulk.py: 100 MB over plain TCP and implicit TLS to rsmtp-testserver's example
bench_sink, rsmtp vs msmtp vs curl; build it first with
`cargo build --release -p rsmtp-testserver --example bench_sink`). `--only loopback|rtt|bulk` runs one section.

The "queue always" row is the time until the caller (PHP, cron) gets its exit status
when rsmtp only makes the message durable and delivers it from a background process,
against msmtp sending the same message.

Needs: GNU time (/usr/bin/time), msmtp, curl, openssl, postfix's smtp-sink
(/usr/sbin/smtp-sink).
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import bulk
import rtt
from ports import free_port



def start_sink(port):
    # SMTP_SINK: another smtp-sink (Postfix conflicts with dma and nullmailer; one
    # from `apt-get download postfix && dpkg -x`, run through a wrapper setting
    # LD_LIBRARY_PATH to its usr/lib/postfix).
    sink = os.environ.get("SMTP_SINK", "/usr/sbin/smtp-sink")
    args = [sink, "-c", f"127.0.0.1:{port}", "1000"]
    if os.geteuid() == 0:
        args[1:1] = ["-u", "nobody"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("smtp-sink did not start")


def run_once(argv, message_path):
    """Wall time and peak RSS (KiB) of one run.

    The peak RSS comes from GNU time (%M), which forks a small C process: the rusage
    of a child forked straight from Python would count Python's own pages."""
    rss_file = message_path + ".rss"
    wrapped = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
    with open(message_path, "rb") as stdin:
        start = time.perf_counter()
        proc = subprocess.run(wrapped, stdin=stdin, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{argv[0]} failed with {proc.returncode}: "
                 f"{proc.stderr.decode(errors='replace')}")
    with open(rss_file) as f:
        rss = int(f.read().strip().splitlines()[-1])
    return elapsed, rss


def make_message(path, size):
    with open(path, "wb") as f:
        f.write(b"From: bench@example.org\nTo: sink@example.org\nSubject: bench\n\n")
        line = b"x" * 76 + b"\n"
        written = 0
        while written < size:
            f.write(line)
            written += len(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--rsmtp", default=os.path.join(os.path.dirname(__file__), "..",
                                                    "target", "release", "rsmtp"))
    ap.add_argument("--msmtp", default=shutil.which("msmtp") or "/usr/bin/msmtp")
    ap.add_argument("--only", choices=("loopback", "rtt", "bulk"))
    args = ap.parse_args()
    args.rsmtp = os.path.abspath(args.rsmtp)
    if not os.path.exists(args.rsmtp):
        sys.exit(f"{args.rsmtp} not found: run `cargo build --release` first")
    if args.only in (None, "loopback"):
        loopback(args)
    if args.only in (None, "rtt"):
        print()
        rtt.print_rows(rtt.rows(args.rsmtp, args.msmtp, 50.0, 5), 50.0, 5)
    if args.only in (None, "bulk"):
        print()
        bulk.print_rows(bulk.rows(args.rsmtp, args.msmtp, 100, 3), 3)


def loopback(args):

    port = free_port()
    sink = start_sink(port)
    tmp = tempfile.mkdtemp(prefix="rsmtp-bench-")
    try:
        rc = os.path.join(tmp, "msmtprc")
        with open(rc, "w") as f:
            f.write(f"account default\nhost 127.0.0.1\nport {port}\nauth off\ntls off\n"
                    f"from bench@example.org\n")
        os.chmod(rc, 0o600)
        rc_always = os.path.join(tmp, "rsmtprc-always")
        with open(rc_always, "w") as f:
            f.write(f"account default\nhost 127.0.0.1\nport {port}\nauth off\ntls off\n"
                    f"from bench@example.org\nqueue always\nqueue_dir {tmp}/queue\n")
        os.chmod(rc_always, 0o600)
        env_note = "RSMTP_SYSCONFIG=/nonexistent"
        os.environ["RSMTP_SYSCONFIG"] = "/nonexistent"
        results = []
        cases = (("small (1 KB)", 1_000, rc), ("13 MB", 13_000_000, rc),
                 ("queue always", 1_000, rc_always))
        for label, size, rsmtp_rc in cases:
            msg = os.path.join(tmp, f"msg-{size}")
            make_message(msg, size)
            times = {"rsmtp": [], "msmtp": []}
            rss = {"rsmtp": [], "msmtp": []}
            cmds = {
                "rsmtp": [args.rsmtp, "-C", rsmtp_rc, "sink@example.org"],
                "msmtp": [args.msmtp, "-C", rc, "sink@example.org"],
            }
            runs = args.runs if size < 1_000_000 else max(5, args.runs // 3)
            for i in range(runs + 1):
                order = ("rsmtp", "msmtp") if i % 2 == 0 else ("msmtp", "rsmtp")
                for name in order:
                    t, r = run_once(cmds[name], msg)
                    if i > 0:  # the first round warms caches
                        times[name].append(t)
                        rss[name].append(r)
            med = {k: statistics.median(v) for k, v in times.items()}
            results.append((label, med, {k: max(v) for k, v in rss.items()}, runs))
        print(f"# rsmtp vs msmtp against smtp-sink on loopback ({env_note})")
        print(f"{'message':<14}{'runs':>5}{'rsmtp ms':>11}{'msmtp ms':>11}{'ratio':>8}"
              f"{'rsmtp RSS':>12}{'msmtp RSS':>12}")
        for label, med, peak, runs in results:
            ratio = med["rsmtp"] / med["msmtp"]
            print(f"{label:<14}{runs:>5}{med['rsmtp'] * 1000:>11.2f}"
                  f"{med['msmtp'] * 1000:>11.2f}{ratio:>8.3f}"
                  f"{peak['rsmtp'] / 1024:>9.1f}MiB{peak['msmtp'] / 1024:>9.1f}MiB")
    finally:
        sink.kill()
        sink.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
