#!/usr/bin/env python3
"""The queue at scale, two rsmtp builds (or a peer) in the same run, alternating.

usage: benches/queue.py BEFORE_RSMTP AFTER_RSMTP [retrier|mailq|flush|listener|all] [--load]

retrier  With the relay down and 100 / 1,000 / 10,000 entries queued, a retrier
         (`rsmtp --queue-retrier`) runs; 20 messages then arrive one by one
         (`queue fallback`, relay down). Reported: the retrier's CPU time (utime +
         stime from /proc) from the first arrival until it has seen the last one.
mailq    `rsmtp -bp` on 10,000 entries: median wall time of 7 runs.
flush    `rsmtp -q` of 500 due 1 KB entries to a loopback sink: median wall time
         of 5 runs, and fsync/fdatasync calls per message (strace -c -f).
         --load: a `dd oflag=direct` writer loads the disk meanwhile.
listener rsmtpd with `queue always`, 8 concurrent smtplib sessions x 25 x 1 KB:
         messages per second, and fsyncs per message (strace -f: the listener and
         the background deliveries it starts).
RUNS=N   runs per row (default 3).
DMA=PATH dma extracted with `dpkg -x` (usr/sbin/dma): adds dma rows to mailq and flush.

Entries are made from one real entry (written by BEFORE) copied under fresh ids,
so seeding 10,000 takes seconds, not a process per message.
"""
import os, re, resource, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from compare import start_sink  # noqa: E402  (Postfix's smtp-sink on loopback)
from ports import free_port  # noqa: E402

MSG = b"From: app@example.org\nTo: ops@example.net\nSubject: bench\n\n" + (b"x" * 76 + b"\n") * 13
TICK = os.sysconf("SC_CLK_TCK")
RUNS = int(os.environ.get("RUNS", "3"))
# dma's binary from `apt-get download dma && dpkg -x dma_*.deb DIR`: DIR/usr/sbin/dma.
DMA = os.environ.get("DMA")


def closed_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close()
    return p


def rc(work, name, port, queue):
    p = os.path.join(work, name)
    with open(p, "w") as f:
        f.write(f"account default\nhost 127.0.0.1\nport {port}\ntls off\nauth off\n"
                f"from app@example.org\ntimeout 10\nqueue fallback\nqueue_dir {queue}\n")
    os.chmod(p, 0o600)
    return p


def env(work):
    e = dict(os.environ, HOME=work, RSMTP_SYSCONFIG=os.path.join(work, "none"))
    e.pop("RSMTP_RETRY_FIRST_DELAY_MS", None)
    return e


def template(rsmtp, work):
    """One real entry, written by `rsmtp` with the relay down: (envelope, message)."""
    q = os.path.join(work, "template-q")
    c = rc(work, "template-rc", closed_port(), q)
    # --queue-retrier is started by the run; make it exit at once with no entries.
    subprocess.run([rsmtp, "-C", c, "-t"], input=MSG, env=env(work), check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    entry = os.path.join(q, "queue", os.listdir(os.path.join(q, "queue"))[0])
    envelope = open(os.path.join(entry, "envelope")).read()
    message = open(os.path.join(entry, "message"), "rb").read()
    for pid in subprocess.run(["pgrep", "-f", "--", f"--queue-dir={q}"], capture_output=True,
                              text=True).stdout.split():
        os.kill(int(pid), 9)
    return envelope, message


def seed(queue, n, envelope, message, config, next_attempt):
    for sub in ("tmp", "queue", "failed"):
        os.makedirs(os.path.join(queue, sub), mode=0o700, exist_ok=True)
    os.chmod(queue, 0o700)
    now = time.time()
    text = re.sub(r"(?m)^config-file: .*$", f"config-file: {config}", envelope)
    text = re.sub(r"(?m)^next-attempt: .*$", f"next-attempt: {next_attempt:.9f}", text)
    for i in range(n):
        t = now - n + i
        eid = f"{int(t):010d}-{int(t % 1 * 1e6):06d}-1-{i:08x}"
        d = os.path.join(queue, "queue", eid)
        os.mkdir(d, 0o700)
        body = re.sub(r"(?m)^submitted: .*$", f"submitted: {t:.9f}", text)
        for name, data in (("message", message), ("envelope", body.encode())):
            fd = os.open(os.path.join(d, name), os.O_WRONLY | os.O_CREAT, 0o600)
            os.write(fd, data); os.close(fd)


def cpu(pid):
    """CPU seconds of the process's threads, to the nanosecond (schedstat)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(open(f"/proc/{pid}/task/{task}/schedstat").read().split()[0])
        except OSError:
            pass
    return total / 1e9


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def idle(pid, quiet=1.5):
    """Waits until the process has used less than 3 ms of CPU in `quiet` seconds
    (a sleeping retrier still looks at queue/ every second)."""
    last, since = cpu(pid), time.monotonic()
    while time.monotonic() - since < quiet:
        time.sleep(0.25)
        now = cpu(pid)
        if now - last > 0.003:
            last, since = now, time.monotonic()
    return cpu(pid)


def retrier_cpu(rsmtp, work, n, tmpl):
    q = os.path.join(work, f"rq-{n}")
    shutil.rmtree(q, ignore_errors=True)
    down = closed_port()
    c = rc(work, f"rrc-{n}", down, q)
    seed(q, n, *tmpl, c, time.time() + 3000)
    p = subprocess.Popen([rsmtp, "--queue-retrier", f"--queue-dir={q}",
                          "--queue-retry-for=432000", "-C", c], env=env(work),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        start, arrivals = idle(p.pid), children_cpu()
        for _ in range(20):
            subprocess.run([rsmtp, "-C", c, "-t"], input=MSG, env=env(work),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.1)  # the retrier looks at queue/ every second
        arrivals = children_cpu() - arrivals
        used = idle(p.pid) - start
        left = len(os.listdir(os.path.join(q, "queue")))
        assert left == n + 20, (rsmtp, n, left)
    finally:
        p.kill(); p.wait()
    shutil.rmtree(q, ignore_errors=True)
    return used, arrivals


def run_retrier(before, after, work):
    tmpl = template(before, work)
    print(f"# CPU for 20 arrivals, relay down: the retrier's, and the retrier's plus the 20 "
          f"arriving rsmtp processes' (s; median of {RUNS}, alternating)")
    rows = {}
    for n in (100, 1000, 10000):
        res = {before: [], after: []}
        for r in range(RUNS):
            for b in ((before, after) if r % 2 == 0 else (after, before)):
                res[b].append(retrier_cpu(b, work, n, tmpl))
        rows[n] = {b: (statistics.median(u for u, _ in v), statistics.median(u + a for u, a in v))
                   for b, v in res.items()}
        print(f"{n:>6} queued: retrier before {rows[n][before][0]:.3f} after {rows[n][after][0]:.3f}; "
              f"with arrivals before {rows[n][before][1]:.3f} after {rows[n][after][1]:.3f}",
              flush=True)
    for b, name in ((before, "before"), (after, "after")):
        print(f"{name}: 10,000 / 100 = {rows[10000][b][0] / rows[100][b][0]:.1f}x (retrier), "
              f"{rows[10000][b][1] / rows[100][b][1]:.2f}x (with arrivals)")


def run_mailq(before, after, work, peers=()):
    tmpl = template(before, work)
    q = os.path.join(work, "mq")
    c = rc(work, "mrc", closed_port(), q)
    seed(q, 10000, *tmpl, c, time.time() + 3000)
    cmds = {before: [before, "-C", c, "-bp"], after: [after, "-C", c, "-bp"]}
    if DMA:
        dma = dma_binary(DMA, work)
        dma_setup(dma, os.path.join(DMA_CONF_DIR, "spool"), closed_port(), 10000, True)
        cmds["dma"] = [dma, "-bp"]
    times = {k: [] for k in cmds}
    for r in range(8):
        for k in (list(cmds) if r % 2 == 0 else list(cmds)[::-1]):
            t = time.perf_counter()
            subprocess.run(cmds[k], env=env(work), stdout=subprocess.DEVNULL, check=True)
            if r:
                times[k].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"# mailq, 10,000 entries (median of 7, alternating)\n"
          f"before {med[before]*1000:.0f} ms, after {med[after]*1000:.0f} ms, "
          f"after/before {med[after]/med[before]:.2f}")
    if DMA:
        print(f"dma {med['dma']*1000:.0f} ms: before/dma {med[before]/med['dma']:.2f}, "
              f"after/dma {med[after]/med['dma']:.2f}")
    shutil.rmtree(q, ignore_errors=True)


def fsyncs(rsmtp, argv, work, input_=None):
    out = os.path.join(work, "strace.out")
    subprocess.run(["strace", "-c", "-f", "-e", "trace=fsync,fdatasync", "-o", out, rsmtp] + argv,
                   env=env(work), input=input_, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    calls = 0
    for line in open(out):
        parts = line.split()
        if parts and parts[-1] in ("fsync", "fdatasync"):
            calls += int(parts[3])
    return calls


def run_flush(before, after, work, load):
    n = 500
    tmpl = template(before, work)
    port = free_port()
    sink = start_sink(port)
    seedq = os.path.join(work, "fseed")
    c = rc(work, "frc", port, os.path.join(work, "fq"))
    seed(seedq, n, *tmpl, c, 0)
    dd = None
    if load:
        dd = subprocess.Popen(["sh", "-c", f"while :; do dd if=/dev/zero of={work}/load bs=1M "
                               "count=256 oflag=direct 2>/dev/null; done"], start_new_session=True)
    names = [before, after] + (["dma"] if DMA else [])
    dma = dma_binary(DMA, work) if DMA else None
    times = {k: [] for k in names}
    syncs = {}
    try:
        for r in range(6):
            for b in (names if r % 2 == 0 else names[::-1]):
                if b == "dma":
                    spool = os.path.join(DMA_CONF_DIR, "spool")  # dma runs as mail: not under work (0700)
                    dma_setup(dma, spool, port, n, False)
                    os.sync()  # queued entries are on disk already (rsmtp fsynced them)
                    t = time.perf_counter()
                    subprocess.run([dma, "-q"], capture_output=True)
                    # dma -q forks a deliverer per message and returns: time until
                    # the spool is empty.
                    deadline = time.monotonic() + 120
                    while any(f.startswith("Q") for f in os.listdir(spool)):
                        assert time.monotonic() < deadline, "dma did not empty its spool"
                        time.sleep(0.005)
                    times[b].append(time.perf_counter() - t)
                    if b not in syncs:
                        dma_setup(dma, spool, port, n, False)
                        out = os.path.join(work, "strace.dma")
                        subprocess.run(["strace", "-c", "-f", "-e", "trace=fsync,fdatasync",
                                        "-o", out, dma, "-q"], capture_output=True)
                        while any(f.startswith("Q") for f in os.listdir(spool)):
                            time.sleep(0.05)
                        time.sleep(0.5)  # strace writes its count when the last child exits
                        syncs[b] = sum(int(l.split()[3]) for l in open(out)
                                       if l.split() and l.split()[-1] in ("fsync", "fdatasync")) / n
                    continue
                q = os.path.join(work, "fq"); shutil.rmtree(q, ignore_errors=True)
                shutil.copytree(seedq, q)
                os.sync()  # as after a real enqueue: the first sync must not write the copy
                t = time.perf_counter()
                subprocess.run([b, "-C", c, "-q"], env=env(work), capture_output=True)
                times[b].append(time.perf_counter() - t)
                left = os.listdir(os.path.join(q, "queue"))
                assert not left, (b, len(left))
                if b not in syncs:
                    shutil.rmtree(q); shutil.copytree(seedq, q)
                    syncs[b] = fsyncs(b, ["-C", c, "-q"], work) / n
    finally:
        sink.kill(); sink.wait()
        if dd:
            os.killpg(dd.pid, 9); dd.wait(); os.remove(f"{work}/load")
    mb, ma = statistics.median(times[before]), statistics.median(times[after])
    print(f"# flush of {n} x 1 KB{' under disk load' if load else ''} (median of 6)\n"
          f"before {mb*1000:.0f} ms ({syncs[before]:.2f} fsyncs/msg), "
          f"after {ma*1000:.0f} ms ({syncs[after]:.2f} fsyncs/msg), after/before {ma/mb:.2f}")
    if DMA:
        md = statistics.median(times["dma"])
        print(f"dma {md*1000:.0f} ms ({syncs['dma']:.2f} fsyncs/msg): before/dma {mb/md:.2f}, "
              f"after/dma {ma/md:.2f}")


def listener_run(rsmtp, work, sink_port, trace, queue="always"):
    """8 concurrent smtplib sessions × 25 messages into rsmtpd with `queue QUEUE`
    (`always`, or `off`: direct delivery, the row `always` is measured against):
    (messages per second, fsync+fdatasync calls per message or None)."""
    import smtplib
    from ports import wait_port
    d = tempfile.mkdtemp(dir=work)
    q = os.path.join(d, "q")
    rcfile = os.path.join(d, ".msmtprc")
    with open(rcfile, "w") as f:
        f.write(f"account default\nhost 127.0.0.1\nport {sink_port}\ntls off\nauth off\n"
                f"from app@example.org\nqueue {queue}\nqueue_dir {q}\n")
    os.chmod(rcfile, 0o600)
    os.symlink(rsmtp, os.path.join(d, "rsmtpd"))
    port = free_port()
    out = os.path.join(d, "strace")
    argv = [os.path.join(d, "rsmtpd"), "--interface=127.0.0.1", f"--port={port}"]
    if trace:
        argv = ["strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", out] + argv
    server = subprocess.Popen(argv, env=dict(env(d), HOME=d), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    wait_port(port)
    msg = b"From: app@example.org\r\nTo: a@example.net\r\nSubject: bench\r\n\r\n" + b"x" * 1000 + b"\r\n"
    def client():
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
            for _ in range(25):
                s.sendmail("app@example.org", ["a@example.net"], msg)
    t = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(8)]
    for th in threads: th.start()
    for th in threads: th.join()
    rate = 200 / (time.monotonic() - t)
    # Let the background deliveries finish before the count.
    for _ in range(600):
        if not os.path.isdir(os.path.join(q, "queue")) or not os.listdir(os.path.join(q, "queue")):
            break
        time.sleep(0.1)
    time.sleep(1)
    os.killpg(server.pid, 15)
    server.wait()
    calls = None
    if trace:
        calls = 0
        for line in open(out):
            parts = line.split()
            if parts and parts[-1] in ("fsync", "fdatasync"):
                calls += int(parts[3])
        calls /= 200
    return rate, calls


def run_listener(before, after, work):
    port = free_port()
    sink = start_sink(port)
    try:
        rates = {before: [], after: [], "direct": []}
        for r in range(RUNS):
            order = [(before, "always"), (after, "always"), (after, "off")]
            for b, queue in (order if r % 2 == 0 else order[::-1]):
                rates[b if queue == "always" else "direct"].append(
                    listener_run(b, work, port, False, queue)[0])
        syncs = {b: listener_run(b, work, port, True)[1] for b in (before, after)}
    finally:
        sink.kill(); sink.wait()
    print(f"# rsmtpd, 8 sessions x 25 x 1 KB (median of {RUNS}, alternating)")
    direct = statistics.median(rates["direct"])
    print(f"direct (after, queue off): {direct:.0f} msg/s")
    for b, name in ((before, "before"), (after, "after")):
        rate = statistics.median(rates[b])
        print(f"{name}, queue always: {rate:.0f} msg/s = {rate / direct:.2f}x direct, "
              f"{syncs[b]:.2f} fsyncs/msg (listener and the deliveries it starts)")


DMA_CONF_DIR = "/tmp/rqd"  # as long as "/etc/dma": the binary's path is patched in place


def dma_binary(extracted, work):
    """A copy of dma (from `dpkg -x`) that reads /tmp/rqd/dma.conf: dma takes its
    configuration from a compiled-in path only, and Debian's dma conflicts with
    Postfix, so it cannot be installed here."""
    data = open(extracted, "rb").read()
    old, new = b"/etc/dma/dma.conf\0", (DMA_CONF_DIR + "/dma.conf\0").encode()
    assert data.count(old) == 1 and len(new) == len(old), "unexpected dma binary"
    os.makedirs(DMA_CONF_DIR, exist_ok=True)
    os.chmod(DMA_CONF_DIR, 0o755)
    path = os.path.join(DMA_CONF_DIR, "dma")  # not under work (0700): dma drops to mail
    with open(path, "wb") as f:
        f.write(data.replace(old, new))
    os.chmod(path, 0o755)
    return path


def dma_setup(dma, spool, port, n, defer):
    """An spool of `n` 1 KB messages for dma (one written by dma, copied)."""
    shutil.rmtree(spool, ignore_errors=True)
    os.makedirs(spool); os.chmod(spool, 0o777)  # dma drops to the mail user
    with open(os.path.join(DMA_CONF_DIR, "dma.conf"), "w") as f:
        f.write(f"SMARTHOST 127.0.0.1\nPORT {port}\nSPOOLDIR {spool}\nDEFER\n")
    subprocess.run([dma, "-f", "app@example.org", "ops@example.net"], input=MSG, check=True)
    q = [f for f in os.listdir(spool) if f.startswith("Q")][0]
    oid = q[1:]
    st = os.stat(os.path.join(spool, q))  # dma's files belong to the mail user
    qt = open(os.path.join(spool, q)).read()
    mt = open(os.path.join(spool, "M" + oid), "rb").read()
    for i in range(n - 1):
        nid = f"{i:06x}.{i:012x}"
        for name, data in (("Q" + nid, qt.replace(oid, nid).encode()),
                           ("M" + nid, mt.replace(oid.encode(), nid.encode()))):
            fd = os.open(os.path.join(spool, name), os.O_WRONLY | os.O_CREAT, 0o660)
            os.write(fd, data); os.fchown(fd, st.st_uid, st.st_gid); os.close(fd)
    if not defer:
        with open(os.path.join(DMA_CONF_DIR, "dma.conf"), "w") as f:
            f.write(f"SMARTHOST 127.0.0.1\nPORT {port}\nSPOOLDIR {spool}\n")


def main():
    before, after = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    what = sys.argv[3] if len(sys.argv) > 3 else "all"
    load = "--load" in sys.argv
    work = tempfile.mkdtemp(prefix="rsmtp-qbench-")
    try:
        if what in ("flush", "all"):
            run_flush(before, after, work, load)
        if what in ("mailq", "all"):
            run_mailq(before, after, work)
        if what in ("listener", "all"):
            run_listener(before, after, work)
        if what in ("retrier", "all"):
            run_retrier(before, after, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
