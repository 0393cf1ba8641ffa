#!/usr/bin/env python3
"""Start-up: what one rsmtp call costs before it does any mail work, against /bin/true.

    python3 benches/startup.py [--runs N] [--rsmtp target/release/rsmtp] [OTHER_RSMTP]

Each command is started with posix_spawn and reaped with wait4, alternately (A B A B
...), so machine noise hits all alike; the figures are medians of wall time, of CPU
time (user + system, from wait4's rusage) and of minor page faults (the child's own).
The rows:

- `/bin/true`, the yardstick, and an empty Rust program built here with rustc -O
  (what any Rust binary pays: libgcc_s, the standard library's set-up);
- `rsmtp -bi` (sendmail's "initialise the alias database": parse the command line,
  nothing to do), the whole fixed cost of a call;
- the same after cronie's argument set, `-FCronDaemon -i -odi -oem -oi -t -f root`.

With OTHER_RSMTP (an older build) its rows are printed too, for a before/after ratio.
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import statistics
import sys
import time


def spawn_once(argv, devnull):
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                       (os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, devnull, 2)])
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} exited with {os.waitstatus_to_exitcode(status)}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_minflt


def hello_world():
    """An empty Rust program, optimised and stripped like rsmtp's release build."""
    rustc = shutil.which("rustc")
    if not rustc:
        return None
    out = os.path.join(tempfile.mkdtemp(prefix="rsmtp-startup-"), "hello")
    subprocess.run([rustc, "-C", "opt-level=3", "-C", "strip=symbols", "-o", out, "-"],
                   input=b"fn main() {}\n", check=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--rsmtp", default=os.path.join(os.path.dirname(__file__), "..",
                                                    "target", "release", "rsmtp"))
    ap.add_argument("other", nargs="?", help="an older rsmtp build to compare")
    args = ap.parse_args()
    rsmtp = os.path.abspath(args.rsmtp)
    if not os.path.exists(rsmtp):
        sys.exit(f"{rsmtp} not found: run `cargo build --release -p rsmtp` first")
    cron = ["-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t", "-f", "root", "-bi"]
    cases = {"/bin/true": ["/bin/true"],
             "rsmtp -bi": [rsmtp, "-bi"],
             "rsmtp (cronie's argv) -bi": [rsmtp] + cron}
    hello = hello_world()
    if hello:
        cases["Rust: fn main() {}"] = [hello]
    if args.other:
        other = os.path.abspath(args.other)
        cases["other -bi"] = [other, "-bi"]
        cases["other (cronie's argv) -bi"] = [other] + cron
    devnull = os.open(os.devnull, os.O_RDWR)
    times = {k: [] for k in cases}
    cpu = {k: [] for k in cases}
    faults = {k: [] for k in cases}
    names = list(cases)
    for i in range(args.runs + 5):
        order = names if i % 2 == 0 else list(reversed(names))
        for name in order:
            t, c, f = spawn_once(cases[name], devnull)
            if i >= 5:  # warm-up
                times[name].append(t)
                cpu[name].append(c)
                faults[name].append(f)
    base = statistics.median(times["/bin/true"])
    base_cpu = statistics.median(cpu["/bin/true"])
    print(f"# start-up, {args.runs} runs each, alternating; medians")
    print(f"{'command':<28}{'wall ms':>9}{'/ true':>8}{'cpu ms':>9}{'/ true':>8}"
          f"{'minor faults':>14}")
    for name in names:
        med = statistics.median(times[name])
        med_cpu = statistics.median(cpu[name])
        print(f"{name:<28}{med * 1000:>9.3f}{med / base:>8.2f}{med_cpu * 1000:>9.3f}"
              f"{med_cpu / base_cpu:>8.2f}{statistics.median(faults[name]):>14.0f}")


if __name__ == "__main__":
    main()
