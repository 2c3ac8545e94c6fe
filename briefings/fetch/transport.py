"""The network under httpx: :class:`Transport`, whose backend connects only to the addresses
it checked (:class:`_CheckingBackend`), its connections kept to the deadline of the
request using them (:class:`_DeadlineStream`, the thread-locals ``_deadline`` and
``_guard``), and the process's TLS context."""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpcore
import httpx

from .addresses import Refused, _refusal, _special


class _Deadline(threading.local):
    at: float | None = None
    """When the request this thread is making must be done (``time.monotonic()``)."""


_deadline = _Deadline()


def _within(timeout: float | None) -> float | None:
    """``timeout`` for one socket operation, cut to what is left of the request's time."""
    if _deadline.at is None:
        return timeout
    left = _deadline.at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the request's time is up")
    return left if timeout is None else min(timeout, left)


class _Guard(threading.local):
    on: bool = False
    """Whether the hop this thread is making may reach only public addresses."""


_guard = _Guard()


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends at the deadline of the request using
    it: httpx's timeouts count per socket operation, so a server sending a byte a second
    would otherwise never time out, in its headers or its body.

    ``refusal`` is why a guarded hop may not use it ("" when its address is public): a
    pooled connection a trusted hop opened to a private address is not lent to one that
    is not trusted."""

    def __init__(self, stream: httpcore.NetworkStream, refusal: str = "") -> None:
        self.stream = stream
        self.refusal = refusal

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _within(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.refusal and _guard.on:
            raise Refused(self.refusal)
        self.stream.write(buffer, _within(timeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self.stream.start_tls(ssl_context, server_hostname, _within(timeout)), self.refusal
        )

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


Resolver = Callable[[str, int], Sequence[str]]
"""What a host name and port resolve to: addresses as text, in the order to try them."""


def resolve(host: str, port: int) -> list[str]:
    """The addresses the system's resolver gives for ``host``, each once."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _CheckingBackend(httpcore.NetworkBackend):
    """Connects as ``backend`` does, to the addresses ``resolver`` gives, checked first
    when the hop is guarded, and with connections that keep to the deadline.

    httpcore would resolve the name again itself; connecting to the checked address
    leaves no second answer to differ. TLS still names the host: httpcore gives
    ``start_tls`` the URL's host for SNI and the certificate check."""

    def __init__(self, backend: httpcore.NetworkBackend, resolver: Resolver) -> None:
        self.backend = backend
        self.resolver = resolver

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        if not found:
            raise httpcore.ConnectError(f"no address associated with {host}")
        addresses = [ipaddress.ip_address(a) for a in found]
        if _guard.on:
            for address in addresses:
                if kind := _special(address):
                    raise Refused(_refusal(host, kind, address))
        failure: Exception | None = None
        for address in addresses:  # as socket.create_connection does: the first that answers
            try:
                stream = self.backend.connect_tcp(
                    str(address), port, _within(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            kind = _special(address)
            return _DeadlineStream(stream, _refusal(host, kind, address) if kind else "")
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self.backend.connect_unix_socket(path, _within(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


class Transport(httpx.HTTPTransport):
    """httpx's transport, connecting to addresses it checks as it connects, its
    connections given the deadline of the request using them.

    ``resolver`` and ``network`` (httpcore's socket backend by default) let tests resolve
    names without DNS and connect where they allow. httpx does not take a network
    backend, so it is set on the pool it made; a test (``test_trickled_headers_time_out``)
    fails if a new httpx stops honouring it.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits | None = None,
        resolver: Resolver = resolve,
        network: httpcore.NetworkBackend | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(limits=limits or httpx.Limits(), verify=verify or _tls_context())
        pool = self._pool
        pool._network_backend = _CheckingBackend(network or pool._network_backend, resolver)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS settings, made once a process: loading the certificate store
    takes 25 ms, a twentieth of a poll of 500 unchanged feeds."""
    return httpx.create_ssl_context()
