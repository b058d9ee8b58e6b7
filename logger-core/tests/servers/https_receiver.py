"""A local HTTPS receiver for the upload tests.

Usage: https_receiver.py DIR PORT CERT KEY TOKEN
POSTs with "Authorization: Bearer TOKEN" are stored as DIR/<Idempotency-Key>; a key
already stored is answered 200 without storing it again. Each request is appended to
DIR/../requests.log as "<status> <key>". Prints "READY <port>" once listening.
"""
import http.server
import os
import ssl
import sys
import threading

store, port, cert, key, token = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
log_path = os.path.join(os.path.dirname(os.path.abspath(store)), "requests.log")
os.makedirs(store, exist_ok=True)


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        name = os.path.basename(self.headers.get("Idempotency-Key", ""))
        if self.headers.get("Authorization") != "Bearer " + token:
            status = 401
        elif not name:
            status = 400
        else:
            status = 200
            if self.headers.get("X-Mbus-Upload") == "readings":
                path = os.path.join(store, name)
                if not os.path.exists(path):
                    with open(path + ".tmp", "wb") as f:
                        f.write(body)
                    os.rename(path + ".tmp", path)
        with open(log_path, "a") as f:
            f.write("%d %s\n" % (status, name))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("READY %d" % server.socket.getsockname()[1], flush=True)


def exit_with_parent():
    # The test holds our stdin: when it ends (even killed), stdin closes and so do we.
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server.serve_forever(poll_interval=0.5)
