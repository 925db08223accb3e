#!/usr/bin/python3
"""Anonymous read-only FTP server for the kernel tests: ftpd.py ADDR ROOT.

Started by nsnet under `ip netns exec NS`, in its own process. Prints "ready" once listening
on ADDR:21; exits when its stdin reaches EOF (the test process died) or on SIGTERM, removing
ROOT if it is one of nsnet's ph-ftp-* directories.
Active-mode data connections come from port 20, as real servers (and the ftp conntrack
helper's expectation) have them; pyftpdlib would use a random port.
"""
import logging
import os
import shutil
import signal
import socket
import sys
import threading

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import ActiveDTP, FTPHandler
from pyftpdlib.servers import FTPServer


class Port20DTP(ActiveDTP):
    timeout = 3

    def connect_af_unspecified(self, addr, source_address=None):
        if source_address:
            source_address = (source_address[0], 20)
        return super().connect_af_unspecified(addr, source_address)

    def handle_connect(self):
        # pyftpdlib 1.5.7 unregisters this fd here, hands the socket to a DTPHandler, and
        # unregisters the same fd number again when the session closes. By then the number
        # may belong to another session's passive listener, which silently stops accepting
        # (seen as passive transfers hanging while an active one finishes). Forget the fd.
        super().handle_connect()
        self._fileno = None

    def bind(self, addr):
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        return super().bind(addr)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the cleanup in finally
    addr, root = sys.argv[1], sys.argv[2]
    debug = len(sys.argv) > 3 and sys.argv[3] == "debug"
    flog = logging.getLogger("pyftpdlib")
    flog.addHandler(logging.StreamHandler(sys.stderr) if debug else logging.NullHandler())
    flog.setLevel(logging.DEBUG if debug else logging.CRITICAL)
    flog.propagate = False
    auth = DummyAuthorizer()
    auth.add_anonymous(root)
    handler = type("Handler", (FTPHandler,), {
        "authorizer": auth, "active_dtp": Port20DTP, "timeout": 30,
        "banner": "pinhole test ftp"})
    server = FTPServer((addr, 21), handler)

    def watch_parent():
        # stdin is a pipe from the test process: EOF means it is gone (even if SIGKILLed)
        sys.stdin.read()
        cleanup()
        os._exit(0)

    def cleanup():
        if os.path.basename(root).startswith("ph-ftp-"):
            shutil.rmtree(root, ignore_errors=True)

    threading.Thread(target=watch_parent, daemon=True).start()
    print("ready", flush=True)
    try:
        server.serve_forever(timeout=0.5, handle_exit=True)
    finally:
        cleanup()


if __name__ == "__main__":
    main()
