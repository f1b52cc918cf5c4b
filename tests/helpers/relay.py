"""A TCP relay between a client and a real peer: slows the client's requests, or cuts the line.

Used to make a print job last long enough to close a dialog or kill a program in the middle
of it, and to take the printer away during a film (the peer stays the real DCMTK program).
"""

from __future__ import annotations

import socket
import threading
import time


class Relay:
    """Listens on 127.0.0.1:``port`` and forwards each connection to ``target_port``.

    ``delay`` seconds are waited before each chunk from the client is forwarded.
    """

    def __init__(self, target_port: int, delay: float = 0.0, host: str = "127.0.0.1") -> None:
        self.target = (host, target_port)
        self.delay = delay
        self._srv = socket.socket()
        self._srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._srv.bind((host, 0))
        self._srv.listen(8)
        self.port = int(self._srv.getsockname()[1])
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._srv.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._conns += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_client and self.delay:
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        """Close every connection at once, as a printer that dies does."""
        with self._lock:
            conns, self._conns = self._conns, []
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self) -> None:
        self._closed = True
        self._srv.close()
        self.cut()
