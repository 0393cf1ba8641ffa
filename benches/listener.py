#!/usr/bin/env python3
"""Messages per second through the local SMTP listener: rsmtpd (its own delivery path)
against msmtpd piping each message to msmtp (`--command='msmtp -C RC -f %F --'`), and
`rsmtp -bs`, all relaying to the same loopback smtp-sink, alternating, in one run.

    python3 benches/listener.py [--rsmtp target/release/rsmtp] [--msmtpd PATH] [--messages 200]

The client is Python's smtplib: one connection, MESSAGES messages (each MAIL/RCPT/DATA
waits for its reply, as a real application does). msmtpd is in Debian's msmtp-mta, which
conflicts with other MTAs; `apt-get download msmtp-mta && dpkg -x msmtp-mta_*.deb DIR`
gives the binary without installing it.
"""
import argparse, os, smtplib, socket, statistics, subprocess, sys, tempfile, time
from ports import free_port, wait_port




MSG = b"From: app@example.org\r\nTo: a@example.net\r\nSubject: bench\r\n\r\nhello\r\n"


def send_over(port, n):
    t = time.monotonic()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        for _ in range(n):
            s.sendmail("app@example.org", ["a@example.net"], MSG)
    return n / (time.monotonic() - t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rsmtp", default="target/release/rsmtp")
    ap.add_argument("--msmtpd", default="/usr/bin/msmtpd")
    ap.add_argument("--msmtp", default="/usr/bin/msmtp")
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    sink_port = free_port()
    sink_cmd = ["/usr/sbin/smtp-sink"] + (["-u", "nobody"] if os.geteuid() == 0 else [])
    sink = subprocess.Popen(sink_cmd + [f"127.0.0.1:{sink_port}", "500"])
    wait_port(sink_port)
    tmp = tempfile.mkdtemp()
    rc = os.path.join(tmp, "msmtprc")
    with open(rc, "w") as f:
        f.write(f"defaults\nauth off\ntls off\naccount default\nhost 127.0.0.1\nport {sink_port}\n"
                "from app@example.org\n")
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=tmp, RSMTP_SYSCONFIG="/nonexistent")
    os.symlink(os.path.abspath(a.rsmtp), os.path.join(tmp, "rsmtpd"))
    os.symlink(rc, os.path.join(tmp, ".msmtprc"))
    servers = {}
    for name, argv in (
        ("rsmtpd", [os.path.join(tmp, "rsmtpd")]),
        ("msmtpd | msmtp", [a.msmtpd, f"--command={a.msmtp} -C {rc} -f %F --"]),
    ):
        port = free_port()
        p = subprocess.Popen(argv + ["--interface=127.0.0.1", f"--port={port}"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port)
        servers[name] = (p, port)
    rates = {name: [] for name in servers}
    for _ in range(a.runs):
        for name, (_, port) in servers.items():
            rates[name].append(send_over(port, a.messages))
    print(f"{a.messages} messages over one smtplib connection, {a.runs} runs each, alternating")
    for name, r in rates.items():
        print(f"{name:<16} {statistics.median(r):8.1f} msg/s")
    ratio = statistics.median(rates["rsmtpd"]) / statistics.median(rates["msmtpd | msmtp"])
    print(f"rsmtpd / msmtpd: {ratio:.1f}x the throughput")
    for p, _ in servers.values():
        p.kill()
    sink.kill()


main()
