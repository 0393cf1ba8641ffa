#!/usr/bin/env python3
"""A minimal SMTP sink that reads as fast as the machine lets it, for the bulk and
round-trip rows of benches/compare.py (Postfix's smtp-sink tops out near 120 MB/s).

    python3 benches/sink.py PORT [--cert CERT --key KEY] [--implicit]

One thread per connection, blocking sockets, message data read in 1 MiB chunks and
only searched for the terminator (bytes.find, in C). Offers PIPELINING, 8BITMIME,
SIZE, AUTH PLAIN LOGIN (any credentials are accepted) and, given a certificate,
STARTTLS; `--implicit` speaks TLS from the first byte (port 465 style). Pipelined
commands are answered in order, as they are read. Prints "ready" once listening.
"""
import argparse
import socket
import ssl
import sys
import threading

CHUNK = 1 << 20
TERMINATOR = b"\r\n.\r\n"


class Session:
    def __init__(self, sock, context, implicit):
        self.sock = sock
        self.context = context
        self.tls = False
        if implicit:
            self.sock = context.wrap_socket(sock, server_side=True)
            self.tls = True
        self.buf = b""

    def recv(self):
        data = self.sock.recv(CHUNK)
        if not data:
            raise EOFError
        return data

    def line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[: i + 1], self.buf[i + 1:]
                return line.rstrip(b"\r\n")
            self.buf += self.recv()

    def data(self):
        """Reads message data up to the terminator; keeps what follows it."""
        tail = b"\r\n" + self.buf
        self.buf = b""
        while True:
            i = tail.find(TERMINATOR)
            if i >= 0:
                self.buf = tail[i + len(TERMINATOR):]
                return
            tail = tail[-4:] + self.recv()

    def send(self, text):
        self.sock.sendall(text.encode() + b"\r\n")

    def run(self):
        self.send("220 sink ESMTP")
        while True:
            line = self.line()
            verb = line[:4].upper()
            if verb in (b"EHLO", b"LHLO"):
                caps = ["250-sink", "250-PIPELINING", "250-8BITMIME", "250-SIZE 0",
                        "250-AUTH PLAIN LOGIN"]
                if self.context is not None and not self.tls:
                    caps.append("250-STARTTLS")
                caps.append("250 ENHANCEDSTATUSCODES")
                self.sock.sendall("\r\n".join(caps).encode() + b"\r\n")
            elif verb == b"HELO":
                self.send("250 sink")
            elif verb == b"STAR" and self.context is not None and not self.tls:
                self.send("220 go ahead")
                self.sock = self.context.wrap_socket(self.sock, server_side=True)
                self.tls = True
                self.buf = b""
            elif verb == b"AUTH":
                parts = line.split()
                if len(parts) < 3:
                    # No initial response: ask for it (LOGIN asks twice).
                    self.send("334 ")
                    self.line()
                    if parts[1:2] and parts[1].upper() == b"LOGIN":
                        self.send("334 UGFzc3dvcmQ6")
                        self.line()
                self.send("235 2.7.0 ok")
            elif verb == b"DATA":
                self.send("354 go")
                self.data()
                self.send("250 2.0.0 ok")
            elif verb == b"QUIT":
                self.send("221 bye")
                return
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.send("250 2.0.0 ok")
            else:
                self.send("502 5.5.2 what")


def serve(conn, context, implicit):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Session(conn, context, implicit).run()
    except (EOFError, OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--implicit", action="store_true")
    args = ap.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    elif args.implicit:
        sys.exit("--implicit needs --cert and --key")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(64)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn, context, args.implicit), daemon=True).start()


if __name__ == "__main__":
    main()
