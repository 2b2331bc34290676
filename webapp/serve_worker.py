"""The worker of `xinqu serve`: gunicorn's threaded worker, handing a connection to a
thread only once its request head has arrived.

gunicorn's `gthread` gives every new connection to a request thread at once. A client
that connects and says nothing keeps that thread for 5 s; one that sends part of its
request head and stops (a stalled or slow client) keeps it for as long as it stays
connected, since the head is read with no time limit. Eight such clients take all
the threads of a worker, and the kernel gives most new connections to one worker, so a
browser's next request could wait behind them for ever (tests/test_server_live.py).

Here the worker's event loop reads each request head itself, without blocking, and a
thread gets the connection with its whole head already read: idle, half-sent and kept
alive connections wait in the loop, not in threads. A head must arrive within
`HEAD_TIMEOUT` once it has begun (a silent new connection within the keep-alive time),
else the connection is closed; heads longer than `HEAD_BUFFER` go to a thread as they
are, where gunicorn's own limits answer them; a stopping worker waits for an unfinished
head 2 s at most (gunicorn's linger for kept-alive connections), not its whole graceful
timeout. Bodies are still read in the thread.
TLS and HTTP/2 connections are left to gunicorn's own way (`xinqu serve` uses neither).
"""

from __future__ import annotations

import errno
import selectors
import time
from functools import partial

from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

HEAD_TIMEOUT = 10.0  # seconds from a head's first byte to its end
HEAD_BUFFER = 32 * 1024  # bytes of head read here at most before a thread takes over
HEAD_END = b"\r\n\r\n"


class HeadFirstWorker(ThreadWorker):
    """gthread, with request heads read in the event loop (see the module's docstring)."""

    def init_process(self) -> None:
        self.head_first = not self.cfg.is_ssl and getattr(self.cfg, "protocol", "http") == "http"
        super().init_process()

    def _reads_heads(self, conn: TConn) -> bool:
        return self.head_first and not negotiation.prior_knowledge_allowed(self.cfg, conn.client)

    def accept(self, listener) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        if not self._reads_heads(conn):
            self.enqueue_req(conn)
            return
        conn.data_ready = True  # the thread must not wait for data again
        self._await_head(conn, self.cfg.keepalive)

    def on_client_socket_readable(self, conn: TConn, client) -> None:
        """A kept-alive connection speaks again: read its next head here too."""
        if not self._reads_heads(conn):
            super().on_client_socket_readable(conn, client)
            return
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn, HEAD_TIMEOUT)
        self._read_head(conn, client)

    def _await_head(self, conn: TConn, wait: float) -> None:
        conn.head = bytearray()
        conn.timeout = time.monotonic() + wait
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: TConn, _client) -> None:
        """Read what the socket holds; a complete head (or a long one) goes to a thread."""
        try:
            data = conn.sock.recv(HEAD_BUFFER)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._forget(conn)
            self.nr_conns -= 1
            conn.close()
            return
        if not conn.head:  # the head has begun: it gets its own time
            conn.timeout = time.monotonic() + HEAD_TIMEOUT
        conn.head += data
        if HEAD_END in conn.head or len(conn.head) >= HEAD_BUFFER:
            self._forget(conn)
            self.enqueue_req(conn)

    def _forget(self, conn: TConn) -> None:
        self.poller.unregister(conn.sock)
        self.pending_conns.remove(conn)

    def murder_pending(self) -> None:
        """Close the connections whose head did not come in time (their deadlines differ,
        so every one is looked at). A stopping worker waits for them only briefly, as
        gunicorn for its kept-alive ones."""
        now = time.monotonic()
        if not self.alive:
            for conn in self.pending_conns:
                conn.timeout = min(conn.timeout, now + STOP_KEEPALIVE_LINGER)
        for conn in [c for c in self.pending_conns if c.timeout <= now]:
            try:
                self._forget(conn)
            except (OSError, KeyError, ValueError):
                self.pending_conns.remove(conn)
            self.nr_conns -= 1
            conn.close()

    def handle(self, conn: TConn):
        """Serve a connection in a thread: the head read in the loop comes first."""
        head = getattr(conn, "head", None)
        if head:
            conn.head = None
            conn.sock.setblocking(True)
            conn.init()  # HTTP/1 only here: makes the parser, reads nothing
            conn.parser.unreader.unread(bytes(head))
        return super().handle(conn)
