#!/usr/bin/env python3
"""Round trips, rsmtp against msmtp and curl in the same run, through
benches/delay_proxy.py: the wall time of one delivery divided by the RTT is the number
of round trips a user on a real network pays.

    python3 benches/rtt.py [--rtt 50] [--runs 5] [--rsmtp target/release/rsmtp]

Rows: a small message over plain SMTP (Postfix's smtp-sink, PIPELINING), 1000
recipients (same sink), STARTTLS + AUTH PLAIN and implicit TLS + AUTH PLAIN
(benches/sink.py with a throw-away CA from benches/certs.py, given to msmtp and rsmtp
as tls_trust_file and to curl as --cacert). The programs run alternately, one
delivery each in turn. curl has no row for 1000 recipients (it sends one RCPT per
round trip, 1000 RTT). Ratios are rsmtp/msmtp and rsmtp/curl.
Needs: msmtp, curl, openssl, postfix's smtp-sink (/usr/sbin/smtp-sink), python3.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from certs import make_certs
from ports import free_port, wait_port

HERE = os.path.dirname(os.path.abspath(__file__))


class Servers:
    """The sinks and one delay proxy in front of each; stopped by close()."""

    def __init__(self, rtt, certs):
        self.procs = []
        self.rtt = rtt
        ca, cert, key = certs
        smtp_sink = self.start(self.smtp_sink_cmd)
        starttls = self.start(lambda p: [sys.executable, os.path.join(HERE, "sink.py"), str(p),
                                         "--cert", cert, "--key", key])
        implicit = self.start(lambda p: [sys.executable, os.path.join(HERE, "sink.py"), str(p),
                                         "--cert", cert, "--key", key, "--implicit"])
        self.proxy = {name: self.delay(port) for name, port in
                      (("plain", smtp_sink), ("starttls", starttls), ("implicit", implicit))}

    @staticmethod
    def smtp_sink_cmd(port):
        cmd = ["/usr/sbin/smtp-sink"]
        if os.geteuid() == 0:
            cmd += ["-u", "nobody"]
        return cmd + [f"127.0.0.1:{port}", "200"]

    def start(self, cmd_for_port):
        port = free_port()
        self.procs.append(subprocess.Popen(cmd_for_port(port), stdout=subprocess.DEVNULL))
        wait_port(port)
        return port

    def delay(self, target):
        port = free_port()
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "delay_proxy.py"), str(port),
                                 str(target), str(self.rtt)], stdout=subprocess.PIPE)
        proc.stdout.readline()
        self.procs.append(proc)
        return port

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()


def write_rc(path, port, tls, ca):
    lines = ["defaults", "timeout 30", "account default", "host localhost", f"port {port}",
             "from s@example.org"]
    if tls == "plain":
        lines += ["auth off", "tls off"]
    else:
        lines += ["auth plain", "user bench", "password secret", "tls on", f"tls_trust_file {ca}",
                  "tls_starttls " + ("on" if tls == "starttls" else "off")]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


def curl_cmd(port, tls, ca, rcpts, msg):
    scheme = "smtps" if tls == "implicit" else "smtp"
    cmd = ["curl", "-sS", "--upload-file", msg, f"{scheme}://localhost:{port}",
           "--mail-from", "s@example.org"]
    for r in rcpts:
        cmd += ["--mail-rcpt", r]
    if tls != "plain":
        cmd += ["--cacert", ca, "--user", "bench:secret"]
    if tls == "starttls":
        cmd += ["--ssl-reqd"]
    return cmd


def time_runs(cmds, runs, stdin_path):
    """Median wall time of each command, run alternately (order flipped every round)."""
    times = {name: [] for name in cmds}
    names = list(cmds)
    for i in range(runs):
        for name in (names if i % 2 == 0 else names[::-1]):
            with open(stdin_path, "rb") as stdin:
                t0 = time.monotonic()
                r = subprocess.run(cmds[name], stdin=stdin, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
                times[name].append(time.monotonic() - t0)
            if r.returncode != 0:
                sys.exit(f"{name} failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
    return {name: statistics.median(t) for name, t in times.items()}


def rows(rsmtp, msmtp, rtt, runs):
    """Runs every case; returns [(case, {program: RTTs})]."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        certs = make_certs(tmp)
        servers = Servers(rtt, certs)
        try:
            msg = os.path.join(tmp, "msg")
            with open(msg, "w") as f:
                f.write("From: s@example.org\nTo: a@example.net\nSubject: rtt\n"
                        "Date: Thu, 03 Dec 2026 10:00:00 +0000\nMessage-ID: <rtt@x>\n\nhello\n")
            many = [f"r{i:04}@example.net" for i in range(1000)]
            cases = [("small message", "plain", ["a@example.net"], True),
                     ("1000 recipients", "plain", many, False),
                     ("STARTTLS+AUTH", "starttls", ["a@example.net"], True),
                     ("implicit TLS+AUTH", "implicit", ["a@example.net"], True)]
            for case, tls, rcpts, with_curl in cases:
                port = servers.proxy[tls]
                rc = os.path.join(tmp, f"rc-{tls}")
                write_rc(rc, port, tls, certs[0])
                cmds = {"msmtp": [msmtp, "-C", rc, *rcpts], "rsmtp": [rsmtp, "-C", rc, *rcpts]}
                if with_curl:
                    cmds["curl"] = curl_cmd(port, tls, certs[0], rcpts, msg)
                med = time_runs(cmds, runs, msg)
                results.append((case, {k: v * 1000 / rtt for k, v in med.items()}))
        finally:
            servers.close()
    return results


def print_rows(results, rtt, runs):
    print(f"# round trips through benches/delay_proxy.py at {rtt:.0f} ms RTT, {runs} runs each,"
          " alternating; median wall / RTT")
    print(f"{'case':<20}{'msmtp':>8}{'curl':>8}{'rsmtp':>8}{'/msmtp':>8}{'/curl':>8}")
    for case, r in results:
        curl = f"{r['curl']:>8.2f}" if "curl" in r else f"{'-':>8}"
        vs_curl = f"{r['rsmtp'] / r['curl']:>8.2f}" if "curl" in r else f"{'-':>8}"
        print(f"{case:<20}{r['msmtp']:>8.2f}{curl}{r['rsmtp']:>8.2f}"
              f"{r['rsmtp'] / r['msmtp']:>8.2f}{vs_curl}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtt", type=float, default=50.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rsmtp", default="target/release/rsmtp")
    ap.add_argument("--msmtp", default="/usr/bin/msmtp")
    args = ap.parse_args()
    print_rows(rows(args.rsmtp, args.msmtp, args.rtt, args.runs), args.rtt, args.runs)


if __name__ == "__main__":
    main()
