#!/usr/bin/env python3
"""Queue flush and `queue always` caller latency, before/after, in one run.

usage: benches/flush.py BEFORE_RSMTP AFTER_RSMTP [MESSAGES] [RTT_MS]

With RTT_MS the flush goes through benches/delay_proxy.py (that round trip, both
directions), as over a real network: sessions opened and wall time per message.

A small threaded SMTP sink on loopback counts sessions and messages. For each
binary, the same queue of MESSAGES entries (made once with BEFORE while the relay
was down, their retry time then set to now) is flushed with `rsmtp -q`; runs
alternate between the binaries. Then the caller's time for `queue always` (until
the exit status) is measured alternately, 21 runs each. Medians are printed.
"""
import os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time

class Sink:
    def __init__(self):
        self.sock = socket.socket(); self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0)); self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.sessions = 0; self.messages = 0; self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()
    def reset(self):
        with self.lock: self.sessions = 0; self.messages = 0
    def serve(self):
        while True:
            c, _ = self.sock.accept()
            with self.lock: self.sessions += 1
            threading.Thread(target=self.session, args=(c,), daemon=True).start()
    def session(self, c):
        f = c.makefile("rb"); out = []
        def send(s): c.sendall(s)
        send(b"220 sink\r\n")
        while True:
            line = f.readline()
            if not line: break
            cmd = line[:4].upper()
            if cmd == b"EHLO": send(b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif cmd == b"DATA":
                send(b"354 go\r\n")
                while True:
                    l = f.readline()
                    if not l or l == b".\r\n": break
                with self.lock: self.messages += 1
                send(b"250 ok\r\n")
            elif cmd == b"QUIT": send(b"221 bye\r\n"); break
            else: send(b"250 ok\r\n")
        c.close()

MSG = b"From: app@example.org\nTo: ops@example.net\nSubject: bench\n\n" + b"x" * 2000 + b"\n"

def config(d, port, mode, queue):
    p = os.path.join(d, f"msmtprc-{mode}-{port}")
    with open(p, "w") as f:
        f.write(f"account default\nhost 127.0.0.1\nport {port}\ntls off\nauth off\n"
                f"from app@example.org\ntimeout 10\nqueue {mode}\nqueue_dir {queue}\n")
    os.chmod(p, 0o600)
    return p

def env(d):
    e = dict(os.environ, HOME=d, RSMTP_SYSCONFIG=os.path.join(d, "none"),
             RSMTP_QUEUE_DIR=os.path.join(d, "default-queue"))
    e.pop("RSMTP_RETRY_FIRST_DELAY_MS", None)
    return e

def main():
    before, after = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rtt = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    sink = Sink()
    relay_port = sink.port
    proxy = None
    if rtt > 0:
        ps = socket.socket(); ps.bind(("127.0.0.1", 0)); relay_port = ps.getsockname()[1]; ps.close()
        here = os.path.dirname(os.path.abspath(__file__))
        proxy = subprocess.Popen([sys.executable, os.path.join(here, "delay_proxy.py"),
                                  str(relay_port), str(sink.port), str(rtt)], stdout=subprocess.PIPE)
        proxy.stdout.readline()
    work = tempfile.mkdtemp(prefix="rsmtp-bench-")
    seed = os.path.join(work, "seed")
    closed = socket.socket(); closed.bind(("127.0.0.1", 0)); cport = closed.getsockname()[1]; closed.close()
    cfg = config(work, cport, "fallback", seed)
    for _ in range(n):
        subprocess.run([before, "-C", cfg, "-t"], input=MSG, env=env(work), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Due now, and the account pointing at the sink.
    for entry in os.listdir(os.path.join(seed, "queue")):
        ep = os.path.join(seed, "queue", entry, "envelope")
        text = open(ep).read().splitlines(keepends=True)
        text = [("next-attempt: 0\n" if l.startswith("next-attempt:") else l) for l in text]
        with open(ep + ".tmp", "w") as f: f.write("".join(text))
        os.chmod(ep + ".tmp", 0o600); os.replace(ep + ".tmp", ep)
    results = {before: [], after: []}
    for rnd in range(3):
        for b in (before, after):
            q = os.path.join(work, "q"); shutil.rmtree(q, ignore_errors=True)
            shutil.copytree(seed, q, symlinks=True)
            for root, dirs, files in os.walk(q):
                os.chmod(root, 0o700)
            # the entries name the -C file they were queued with: point it at the sink
            with open(cfg, "w") as f:
                f.write(f"account default\nhost 127.0.0.1\nport {relay_port}\ntls off\nauth off\n"
                        f"from app@example.org\ntimeout 10\nqueue fallback\nqueue_dir {q}\n")
            sink.reset()
            t = time.monotonic()
            r = subprocess.run([b, "-C", cfg, "-q"], env=env(work), capture_output=True)
            wall = time.monotonic() - t
            left = len(os.listdir(os.path.join(q, "queue")))
            results[b].append((wall, sink.sessions, sink.messages, left, r.returncode))
    for b, name in ((before, "before"), (after, "after")):
        walls = [w for w, *_ in results[b]]
        w, s, m, left, rc = results[b][-1]
        rtts = f", {statistics.median(walls)*1000/rtt/n:.2f} RTT per message" if rtt else ""
        print(f"flush {n}{f' at {rtt:.0f} ms RTT' if rtt else ''}: {name}: median "
              f"{statistics.median(walls)*1000:.0f} ms, sessions {s}, delivered {m}, left {left}, "
              f"exit {rc}{rtts}")
    if proxy:
        proxy.kill()
        shutil.rmtree(work, ignore_errors=True)
        return
    # Caller latency of `queue always`.
    lat = {before: [], after: []}
    for b in (before, after):
        subprocess.run([b, "--version"], capture_output=True)
    for _ in range(21):
        for b in (before, after):
            q = os.path.join(work, "qa-" + ("b" if b == before else "a"))
            c = config(work, sink.port, "always", q)
            t = time.monotonic()
            subprocess.run([b, "-C", c, "-t"], input=MSG, env=env(work), check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            lat[b].append(time.monotonic() - t)
    for b, name in ((before, "before"), (after, "after")):
        print(f"queue always caller latency: {name}: median {statistics.median(lat[b])*1000:.2f} ms "
              f"(min {min(lat[b])*1000:.2f}, max {max(lat[b])*1000:.2f})")
    mb, ma = statistics.median(lat[before]), statistics.median(lat[after])
    print(f"ratio after/before: {ma/mb:.2f}")
    time.sleep(2)
    shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
