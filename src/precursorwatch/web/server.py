"""``precursorwatch serve``: uvicorn, hardened against slow and hostile clients.

* A request's head must arrive within :data:`HEADER_TIMEOUT_S` of the connection opening (or
  of the previous answer); its body may not stall for :data:`BODY_TIMEOUT_S` while the app
  waits for it. Either connection is closed (slowloris). An idle keep-alive connection is
  closed after :data:`KEEP_ALIVE_S`.
* A head over :data:`MAX_HEAD_BYTES` is refused (400); past :data:`MAX_CONNECTIONS`
  connections new requests are answered 503.
* Stopping (SIGTERM, SIGINT) lets requests finish for :data:`GRACE_S` seconds, cancels the
  rest and stops the screening workers; a watchdog ends the process
  :data:`EXIT_WITHIN_S` seconds after the signal whatever still runs (a report being
  written is abandoned at its next batch anyway).
* Behind a TLS proxy, ``--proxy`` trusts its ``X-Forwarded-Proto``/``-For`` headers, so
  cookies are ``Secure`` and answers carry HSTS (see the README's Deployment section).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from precursorwatch.settings import Settings
from precursorwatch.store import Store

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 10.0
KEEP_ALIVE_S = 5
MAX_HEAD_BYTES = 64 * 1024
MAX_CONNECTIONS = 500
GRACE_S = 4
EXIT_WITHIN_S = 9.0


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline on request heads and on stalled bodies."""

    header_timeout = HEADER_TIMEOUT_S
    body_timeout = BODY_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the head's deadline as the connection opens."""
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._last_data = time.monotonic()
        super().connection_made(transport)
        self._arm_head()

    def _arm_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_expired)

    def _disarm(self, which: str) -> None:
        timer = getattr(self, which, None)
        if timer is not None:
            timer.cancel()
            setattr(self, which, None)

    def _in_request(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def data_received(self, data: bytes) -> None:
        """Feed uvicorn, then keep the deadlines: none once a head is in, one while a body
        is awaited."""
        self._last_data = time.monotonic()
        super().data_received(data)
        if self.transport.is_closing():
            return
        if self._in_request():
            self._disarm("_head_timer")
            if self.cycle.more_body and self._body_timer is None:
                self._body_timer = self.loop.call_later(self.body_timeout, self._body_expired)
        else:
            self._arm_head()

    def on_response_complete(self) -> None:
        """The next request's head has its own deadline."""
        self._disarm("_body_timer")
        super().on_response_complete()
        if not self.transport.is_closing() and not self._in_request():
            self._arm_head()

    def connection_lost(self, exc: Exception | None) -> None:
        """Drop the timers with the connection."""
        self._disarm("_head_timer")
        self._disarm("_body_timer")
        super().connection_lost(exc)

    def _head_expired(self) -> None:
        self._head_timer = None
        if not self._in_request() and not self.transport.is_closing():
            log.info("closing a connection whose request head did not arrive in time")
            self.transport.close()

    def _body_expired(self) -> None:
        self._body_timer = None
        if self.transport.is_closing() or not self._in_request() or not self.cycle.more_body:
            return
        idle = time.monotonic() - self._last_data
        if self.flow.read_paused or idle < self.body_timeout:
            # the app is not reading yet (the client waits on it), or data came lately
            self._body_timer = self.loop.call_later(
                max(0.5, self.body_timeout - idle), self._body_expired
            )
            return
        log.info("closing a connection whose request body stalled")
        self.transport.close()


class _Server(uvicorn.Server):
    """uvicorn's server with a watchdog: the process ends soon after a stop signal."""

    def handle_exit(self, sig: int, frame: Any) -> None:
        """Stop gracefully, and make sure the process is gone within EXIT_WITHIN_S."""
        if not getattr(self, "_watchdog", None):
            self._watchdog = threading.Timer(EXIT_WITHIN_S, _exit_now)
            self._watchdog.daemon = True
            self._watchdog.start()
        super().handle_exit(sig, frame)


def _exit_now() -> None:
    log.warning("still running %.0f s after the stop signal: exiting", EXIT_WITHIN_S)
    logging.shutdown()
    os._exit(0)


def config(
    settings: Settings,
    store: Store | None,
    *,
    host: str,
    port: int,
    proxy: bool = False,
    log_level: str = "info",
) -> uvicorn.Config:
    """The uvicorn configuration of the app over ``settings`` and ``store``."""
    from precursorwatch.web.app import create_app

    return uvicorn.Config(
        create_app(settings, store),
        host=host,
        port=port,
        log_level=log_level,
        http=GuardedH11Protocol,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACE_S,
        limit_concurrency=MAX_CONNECTIONS,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        proxy_headers=proxy,  # trusts FORWARDED_ALLOW_IPS (default: the proxy on 127.0.0.1)
        server_header=False,
        lifespan="on",
    )


def serve(
    settings: Settings, store: Store | None, *, host: str, port: int, proxy: bool = False
) -> None:
    """Serve the API and the pages until stopped (then exit within EXIT_WITHIN_S)."""
    server = _Server(config(settings, store, host=host, port=port, proxy=proxy))
    server.run()
    # whatever threads linger (a report abandoned mid-batch) must not hold the exit
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
