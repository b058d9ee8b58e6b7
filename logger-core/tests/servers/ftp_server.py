"""A local FTP/FTPS server for the upload tests (pyftpdlib).

Usage: ftp_server.py ROOT PORT [CERT KEY]
User `logger` / `secret` may write in ROOT; ROOT/readonly may only be listed and read.
Every completed rename is appended to ROOT/../renames.log as "RNTO <name>" and every
stored file as "STOR <name>". Prints "READY <port>" once listening.
"""
import logging
import os
import sys
import threading

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.log import config_logging
from pyftpdlib.servers import FTPServer

config_logging(level=logging.WARNING)
root, port = sys.argv[1], int(sys.argv[2])
log_path = os.path.join(os.path.dirname(os.path.abspath(root)), "transfers.log")

if len(sys.argv) > 4:
    from pyftpdlib.handlers import TLS_FTPHandler as Base
    Base.certfile = sys.argv[3]
    Base.keyfile = sys.argv[4]
    Base.tls_control_required = True
    Base.tls_data_required = True
else:
    Base = FTPHandler


def note(line):
    with open(log_path, "a") as f:
        f.write(line + "\n")


class Handler(Base):
    def on_file_received(self, file):
        note("STOR " + os.path.basename(file))

    def ftp_RNTO(self, path):
        result = super().ftp_RNTO(path)
        note("RNTO " + os.path.basename(path))
        return result


os.makedirs(os.path.join(root, "readonly"), exist_ok=True)
authorizer = DummyAuthorizer()
authorizer.add_user("logger", "secret", root, perm="elradfmw")
authorizer.override_perm("logger", os.path.join(root, "readonly"), perm="elr", recursive=True)
Handler.authorizer = authorizer
Handler.passive_ports = None
server = FTPServer(("127.0.0.1", port), Handler)
print("READY %d" % server.socket.getsockname()[1], flush=True)


def exit_with_parent():
    # The test holds our stdin: when it ends (even killed), stdin closes and so do we.
    sys.stdin.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server.serve_forever(timeout=0.5)
