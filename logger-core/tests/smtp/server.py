"""A real SMTP server for the e-mail tests (aiosmtpd on 127.0.0.1).

Usage: server.py MAILDIR [--starttls DIR | --tls DIR] [--auth USER:PASSWORD]

With --starttls or --tls it makes a test CA and a server certificate for 127.0.0.1/localhost
in DIR (ca.pem is what the client must trust) and offers STARTTLS (required before anything
else) or talks TLS from the first byte. With --auth it requires a login (PLAIN or LOGIN) with
that user and password. Every message received is written to MAILDIR as NNNN.json:
{"from", "to", "subject", "body"} with the subject and body decoded. Prints "READY <port>" once
it listens; runs until stdin closes or it is killed.
"""

import argparse
import email
import email.policy
import json
import os
import socket
import ssl
import subprocess
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def make_certificates(directory):
    """A CA and a server certificate signed by it, for 127.0.0.1 and localhost."""

    def run(*args):
        subprocess.run(["openssl", *args], check=True, cwd=directory, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=mbus test CA")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(directory, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "server.pem"),
                            os.path.join(directory, "server.key"))
    return context


class Store:
    """Writes each message to the mail directory, atomically (temp file, rename)."""

    def __init__(self, directory):
        self.directory = directory
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(message["subject"]),
            "body": body.get_content() if body is not None else "",
        }
        with self.lock:
            self.count += 1
            name = os.path.join(self.directory, "%04d.json" % self.count)
        with open(name + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(name + ".tmp", name)
        return "250 OK queued"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("maildir")
    parser.add_argument("--starttls")
    parser.add_argument("--tls")
    parser.add_argument("--auth")
    args = parser.parse_args()

    kwargs = {}
    if args.starttls:
        kwargs["tls_context"] = make_certificates(args.starttls)
        kwargs["require_starttls"] = True
    if args.tls:
        kwargs["ssl_context"] = make_certificates(args.tls)
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and data.login.decode() == user
                  and data.password.decode() == password)
            return AuthResult(success=ok, handled=False)

        kwargs["authenticator"] = authenticator
        kwargs["auth_required"] = True
        # aiosmtpd knows a STARTTLS session is encrypted, not an implicit-TLS one: it would
        # hide AUTH there.
        kwargs["auth_require_tls"] = bool(args.starttls)

    port = free_port()
    controller = Controller(Store(args.maildir), hostname="127.0.0.1", port=port,
                            server_hostname="localhost", **kwargs)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
