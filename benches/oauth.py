#!/usr/bin/env python3
"""What OAuth 2.0 costs a send: rsmtp with a cached access token (auth xoauth2,
oauth2_flow client_credentials) against rsmtp with a password (auth plain), alternately,
in one run, to the same loopback rsmtp-testserver; plus the token requests the whole run
made (issue 22: 1000 messages in an hour must cost one).

    python3 benches/oauth.py [--rsmtp target/release/rsmtp]
        [--testserver target/release/rsmtp-testserver] [--runs 200]

The token endpoint is a small Python HTTP server on 127.0.0.1 (rsmtp allows plain
http:// only there) that answers every client_credentials request with the same token,
valid an hour, and counts the requests. The SMTP server takes that token as XOAUTH2
bearer token and as the PLAIN password, so both sends do the same SMTP work; the
difference is reading the token store (and, for the first send only, the request).
Ratios are what matter; absolute times depend on the machine.
"""
import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from ports import free_port, wait_port

TOKEN = "bench-access-token-0123456789"
USER = "bench@example.org"
MESSAGE = b"From: bench@example.org\nTo: a@example.net\nSubject: oauth bench\n\nhello\n"


class TokenEndpoint(http.server.BaseHTTPRequestHandler):
    requests = 0

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        TokenEndpoint.requests += 1
        body = json.dumps(
            {"token_type": "Bearer", "expires_in": 3600, "access_token": TOKEN}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rsmtp", default="target/release/rsmtp")
    ap.add_argument("--testserver", default="target/release/rsmtp-testserver")
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()

    token_port = free_port()
    endpoint = http.server.ThreadingHTTPServer(("127.0.0.1", token_port), TokenEndpoint)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()

    smtp_port = free_port()
    server = subprocess.Popen(
        [a.testserver, "--port", str(smtp_port), "--user", USER, "--password", TOKEN,
         "--mechanisms", "PLAIN,XOAUTH2", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(smtp_port)
        with tempfile.TemporaryDirectory() as tmp:
            common = (f"host 127.0.0.1\nport {smtp_port}\ntls off\nuser {USER}\n"
                      f"from {USER}\n")
            rc = os.path.join(tmp, "msmtprc")
            write(rc,
                  f"account oauth\n{common}auth xoauth2\n"
                  f"oauth2_flow client_credentials\n"
                  f"oauth2_token_url http://127.0.0.1:{token_port}/token\n"
                  f"oauth2_client_id bench\noauth2_client_secret bench-secret\n"
                  f"oauth2_scope https://outlook.office365.com/.default\n\n"
                  f"account password\n{common}auth plain\npassword {TOKEN}\n")
            env = dict(os.environ, RSMTP_OAUTH_DIR=os.path.join(tmp, "oauth"),
                       RSMTP_SYSCONFIG="", HOME=tmp)
            times = {"oauth": [], "password": []}
            for i in range(a.runs):
                for account in (("oauth", "password") if i % 2 else ("password", "oauth")):
                    t = time.perf_counter()
                    r = subprocess.run([a.rsmtp, "-C", rc, "-a", account, "-t"],
                                       input=MESSAGE, env=env, capture_output=True)
                    times[account].append(time.perf_counter() - t)
                    if r.returncode != 0:
                        sys.exit(f"{account}: exit {r.returncode}: {r.stderr.decode()}")
        oauth = statistics.median(times["oauth"]) * 1000
        password = statistics.median(times["password"]) * 1000
        print(f"{'send':<34} {'median ms':>10}")
        print(f"{'auth plain, password':<34} {password:>10.2f}")
        print(f"{'auth xoauth2, cached token':<34} {oauth:>10.2f}")
        print(f"cached token vs password: {oauth - password:+.2f} ms "
              f"(ratio {oauth / password:.2f}), {a.runs} sends each")
        print(f"token requests for {a.runs} OAuth sends: {TokenEndpoint.requests}")
    finally:
        server.kill()
        endpoint.shutdown()


if __name__ == "__main__":
    main()
