"""HTTP against a real server on 127.0.0.1: errors, caps, redirects, conditional GET."""

from __future__ import annotations

import itertools
import shutil
import socket
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from briefings.fetch import (
    PAGE_ACCEPT,
    FetchOptions,
    Request,
    Transport,
    _connect_reason,
    body_hash,
    fetch_all,
)
from briefings.model import FeedState, Fetched

from .conftest import LocalServer

FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title></channel></rss>"


def get(url: str, state: FeedState | None = None, **options: Any) -> Fetched:
    [result] = fetch_all([Request(url=url, state=state)], FetchOptions(**options))
    return result


def test_ok_keeps_body_type_and_validators(server: LocalServer) -> None:
    url = server.add(
        "/feed", FEED, headers={"Content-Type": "application/rss+xml"}, conditional=True
    )
    result = get(url)
    assert result.status == "ok"
    assert result.body == FEED
    assert result.content_type == "application/rss+xml"
    assert result.etag and result.last_modified


def test_conditional_get_answers_not_modified(server: LocalServer) -> None:
    url = server.add("/feed", FEED, conditional=True)
    first = get(url)
    second = get(url, FeedState(url=url, etag=first.etag, last_modified=first.last_modified))
    assert second.status == "not_modified"
    assert second.body == b""
    assert [status for _, status in server.hits] == [200, 304]


def test_http_error_is_one_line(server: LocalServer) -> None:
    result = get(server.url("/missing"))
    assert (result.status, result.error) == ("error", "HTTP 404 Not Found")
    server.add("/boom", b"oops", status=503)
    assert get(server.url("/boom")).error == "HTTP 503 Service Unavailable"


def test_timeout(server: LocalServer) -> None:
    url = server.add("/slow", FEED, delay=2.0)
    result = get(url, timeout=0.5)
    assert (result.status, result.error) == ("error", "timed out after 0.5s")


def test_size_cap_declared_and_streamed(server: LocalServer) -> None:
    url = server.add("/big", b"x" * 5000)
    result = get(url, max_bytes=1000)
    assert result.status == "error"
    assert "over the 1,000-byte limit" in result.error


def test_redirects_followed_and_bounded(server: LocalServer) -> None:
    target = server.add("/final", FEED)
    server.add("/moved", status=301, headers={"Location": target})
    result = get(server.url("/moved"))
    assert result.status == "ok"
    assert result.final_url == target
    server.add("/loop", status=302, headers={"Location": server.url("/loop")})
    assert get(server.url("/loop")).error == "more than 5 redirects"


def test_a_redirect_without_a_location_says_so(server: LocalServer) -> None:
    server.add("/nowhere", status=301)
    assert get(server.url("/nowhere")).error == "HTTP 301 without a Location header"
    server.add("/blank", status=302, headers={"Location": " "})
    assert get(server.url("/blank")).error == "HTTP 302 without a Location header"


def test_a_malformed_url_fails_its_request_only(server: LocalServer) -> None:
    server.add("/bad-hop", status=302, headers={"Location": "http://[::1/feed"})
    good = server.add("/good", FEED)
    results = fetch_all(
        [Request(url=server.url("/bad-hop")), Request(url="http://[::1/x"), Request(url=good)],
        FetchOptions(),
    )
    assert [r.status for r in results] == ["error", "error", "ok"]
    assert results[0].error.startswith("invalid URL: ")
    assert "\n" not in results[0].error


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = get(f"http://127.0.0.1:{port}/feed")
    assert result.status == "error"
    assert result.error == "connection refused by 127.0.0.1"


def test_dns_failure_message() -> None:
    exc = httpx.ConnectError("[Errno -2] Name or service not known")
    assert _connect_reason("https://no-such-host.invalid/feed", exc) == (
        "could not resolve host 'no-such-host.invalid'"
    )


def test_local_file_and_its_conditional_read(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(FEED)
    first = get(str(path))
    assert (first.status, first.body) == ("ok", FEED)
    again = get(str(path), FeedState(url=str(path), last_modified=first.last_modified))
    assert again.status == "not_modified"
    assert get(str(tmp_path / "missing.xml")).error == "cannot read file: No such file or directory"


def test_results_keep_request_order(server: LocalServer) -> None:
    slow = server.add("/slow", FEED, delay=0.3)
    fast = server.add("/fast", FEED)
    results = fetch_all([Request(url=slow), Request(url=fast)], FetchOptions())
    assert [r.url for r in results] == [slow, fast]


def test_429_waits_as_retry_after_asks(server: LocalServer) -> None:
    url = server.add("/busy", FEED, fail_first=1, fail_headers={"Retry-After": "1"})
    result = get(url, retries=2, backoff=0.01)
    assert result.status == "ok"
    [(_, first), (_, second)] = server.times
    assert second - first >= 0.95
    assert [status for _, status in server.hits] == [429, 200]


def test_5xx_retried_with_backoff_then_given_up(server: LocalServer) -> None:
    url = server.add("/down", FEED, fail_first=5, fail_status=503)
    result = get(url, retries=2, backoff=0.05)
    assert (result.status, result.error) == ("error", "HTTP 503 Service Unavailable")
    assert len(server.times) == 3  # the first try and two retries
    assert get(server.add("/gone", FEED, fail_first=1, fail_status=404), retries=2).error == (
        "HTTP 404 Not Found"
    )  # a 4xx other than 429 is not retried


def test_untrusted_link_to_a_loopback_address_is_refused(server: LocalServer) -> None:
    page = server.add("/page.html", "<html><body>secret</body></html>")
    local = page.replace("127.0.0.1", "localhost")
    [result] = fetch_all(
        [Request(url=local, allow_private=False, trusted_host="127.0.0.1")], FetchOptions()
    )
    assert result.status == "error"
    assert result.error.startswith("refused: localhost is a loopback address (")
    [same_host] = fetch_all(
        [Request(url=page, allow_private=False, trusted_host="127.0.0.1")], FetchOptions()
    )
    assert same_host.status == "ok"  # the feed's own host may be private
    server.add("/hop", status=302, headers={"Location": local})
    [hop] = fetch_all(
        [Request(url=server.url("/hop"), allow_private=False, trusted_host="127.0.0.1")],
        FetchOptions(),
    )
    assert hop.error.startswith("refused: localhost")  # every redirect hop is checked
    [allowed] = fetch_all([Request(url=local, allow_private=True)], FetchOptions())
    assert allowed.status == "ok"


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("100.100.100.200", "non-public"),  # Alibaba Cloud's metadata, in 100.64.0.0/10
        ("192.0.0.192", "non-public"),  # Oracle Cloud's old metadata address
        ("[2002:a9fe:a9fe::]", "link-local"),  # 6to4 around 169.254.169.254
        ("[64:ff9b::a9fe:a9fe]", "link-local"),  # NAT64 around 169.254.169.254
        ("[::ffff:169.254.169.254]", "link-local"),
        ("[fec0::1]", "non-public"),  # site-local
        ("2130706433", "loopback"),  # 127.0.0.1 as one number
        ("0177.0.0.1", "loopback"),  # and in octal
        ("[::1]", "loopback"),
    ],
)
def test_every_address_that_is_not_public_is_refused(host: str, kind: str) -> None:
    reached: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        reached.append(str(request.url))
        return httpx.Response(200, stream=httpx.ByteStream(b"instance credentials"))

    [result] = fetch_all(
        [Request(url=f"http://{host}/latest/meta-data/", allow_private=False)],
        FetchOptions(transport=httpx.MockTransport(answer)),
    )
    assert reached == []
    assert result.status == "error"
    assert result.error.startswith(f"refused: {host.strip('[]')} is a {kind} address (")


@pytest.mark.parametrize("host", ["[64:ff9b::808:808]", "[::ffff:8.8.8.8]", "[2002:808:808::1]"])
def test_a_public_address_in_ipv6_clothing_is_not_refused(host: str) -> None:
    # DNS64 networks give every IPv4-only site a 64:ff9b:: address: refusing it refused all
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(b"<html><body>news</body></html>"))

    [result] = fetch_all(
        [Request(url=f"http://{host}/news", allow_private=False)],
        FetchOptions(transport=httpx.MockTransport(answer)),
    )
    assert result.status == "ok", result.error


def test_a_20_mb_page_is_cut_at_the_cap(server: LocalServer) -> None:
    head = b"<html><body><article><p>" + b"The Knesset met in Jerusalem. " * 40 + b"</p>"
    url = server.add(
        "/huge",
        head + b"<p>" + b"x" * 20_000_000 + b"</p></article></body></html>",
        headers={"Content-Type": "text/html"},
    )
    result = get(url, max_bytes=5_000_000, truncate=True, accept=PAGE_ACCEPT)
    assert (result.status, result.truncated, len(result.body)) == ("ok", True, 5_000_000)
    assert result.body.startswith(head)
    assert get(url, max_bytes=5_000_000).error.startswith("response of 20,")  # feeds: refused


def test_politeness_two_at_a_time_per_host_and_spaced(server: LocalServer) -> None:
    urls = [server.add(f"/p{n}", FEED, delay=0.2) for n in range(6)]
    fetch_all(
        [Request(url=u) for u in urls], FetchOptions(concurrency=8, per_host=2, host_delay=0.1)
    )
    assert server.most_active == 2
    starts = sorted(t for _, t in server.times)
    # requests start 0.1 s apart at the client; arrival times at the server jitter a little
    assert starts[-1] - starts[0] >= 5 * 0.1 * 0.8
    assert all(b - a >= 0.03 for a, b in itertools.pairwise(starts))


def test_slow_servers_get_more_threads(server: LocalServer) -> None:
    # one thread starts; others join while every running one waits on a slow answer
    urls = [server.add(f"/slow{n}", FEED, delay=0.4) for n in range(8)]
    results = fetch_all([Request(url=u) for u in urls], FetchOptions(concurrency=8, per_host=8))
    assert [r.status for r in results] == ["ok"] * 8
    assert server.most_active >= 4


def test_unchanged_body_comes_back_without_its_bytes(server: LocalServer) -> None:
    url = server.add("/feed", FEED, headers={"ETag": '"v2"'})  # no conditional GET
    first = get(url)
    assert first.status == "ok"
    assert first.body_hash == body_hash(FEED)
    stored = FeedState(url=url, etag='"v1"', body_hash=first.body_hash)
    again = get(url, stored)
    assert (again.status, again.body, again.body_hash) == ("not_modified", b"", first.body_hash)
    assert again.etag == '"v2"'  # the server's new validators, to be stored
    assert [status for _, status in server.hits] == [200, 200]
    server.add("/feed", FEED + b" ", headers={"ETag": '"v2"'})
    changed = get(url, stored)
    assert (changed.status, changed.body) == ("ok", FEED + b" ")


def test_trickled_headers_time_out() -> None:
    """httpx times each socket read alone; the request as a whole must still end in time."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
                if stop.wait(0.1):
                    return
                conn.sendall(bytes([byte]))

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    started = time.monotonic()
    result = get(f"http://127.0.0.1:{listener.getsockname()[1]}/feed", timeout=0.5)
    took = time.monotonic() - started
    stop.set()
    thread.join()
    listener.close()
    assert (result.status, result.error) == ("error", "timed out after 0.5s")
    assert took < 1.5


def test_a_retry_after_longer_than_the_longest_wait_is_not_waited_for(
    server: LocalServer,
) -> None:
    """A 503 asking for an hour's rest failed after sleeping 30 s per retry, and said not why."""
    url = server.add(
        "/resting", FEED, fail_first=5, fail_status=503, fail_headers={"Retry-After": "3600"}
    )
    later = "Wed, 21 Oct 2099 07:28:00 GMT"
    dated = server.add("/dated", FEED, fail_first=5, fail_headers={"Retry-After": later})
    started = time.monotonic()
    resting, far = fetch_all(
        [Request(url=url), Request(url=dated)], FetchOptions(retries=2, max_wait=2)
    )
    assert time.monotonic() - started < 1.5
    assert resting.error == (
        "HTTP 503 Service Unavailable; not retried: the server asks for a wait of 60 min"
    )
    assert far.error.startswith("HTTP 429 Too Many Requests; not retried: the server asks ")
    assert far.error.endswith(" days")
    assert len(server.times) == 2  # each asked once


@pytest.mark.parametrize(
    "status_line",
    [
        b"HTTP/1.1 404 \x1b[2J\x1b]0;pwned\x07\x1b[31mAll feeds fetched" + b" pad" * 3000,
        b"HTTP/1.1 20x " + b"\x1b[2J" * 2000,  # no status line at all: h11's message quotes it
    ],
    ids=["reason-phrase", "garbage"],
)
def test_a_server_s_words_reach_the_error_short_and_without_control_characters(
    status_line: bytes,
) -> None:
    # The reason phrase went to the terminal as it came: escape sequences cleared the
    # screen and wrote what they liked, on one line of 12,000 characters.
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(status_line + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    result = get(f"http://127.0.0.1:{listener.getsockname()[1]}/feed", retries=0)
    thread.join()
    listener.close()
    assert result.status == "error"
    assert not any(ord(c) < 32 or 127 <= ord(c) < 160 for c in result.error), result.error
    assert len(result.error) <= 300


class LoopbackOnly(httpcore.NetworkBackend):
    """httpcore's sockets, refusing to connect anywhere but 127.0.0.1: a test's "public"
    DNS answer must never leave the machine."""

    def __init__(self) -> None:
        self.backend = httpcore.SyncBackend()
        self.tried: list[str] = []

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        self.tried.append(host)
        if host != "127.0.0.1":
            raise httpcore.ConnectError(f"this test connects only to 127.0.0.1, not {host}")
        return self.backend.connect_tcp(host, port, timeout, local_address, socket_options)


class Rebinding:
    """A DNS server that answers a public address first and 127.0.0.1 ever after."""

    def __init__(self, first: str = "93.184.215.14") -> None:
        self.first = first
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return [self.first if len(self.asked) == 1 else "127.0.0.1"]


def test_a_name_rebound_to_loopback_is_refused_where_it_connects(server: LocalServer) -> None:
    """The address check resolved the name, then httpcore resolved it again to connect: a
    DNS server answering "public" then "127.0.0.1" reached the machine's own services."""
    server.add("/latest/meta-data/", b"instance credentials")
    port = server.base.rsplit(":", 1)[1]
    url = f"http://rebind.test:{port}/latest/meta-data/"
    dns, network = Rebinding(), LoopbackOnly()
    transport = Transport(resolver=dns, network=network)
    try:
        first, second = (
            fetch_all([Request(url=url, allow_private=False)], FetchOptions(transport=transport))[0]
            for _ in range(2)
        )
        assert dns.asked == ["rebind.test", "rebind.test"]  # once a connection, no more
        assert network.tried == ["93.184.215.14"]  # where the first answer said
        assert first.error.startswith("could not connect to rebind.test: this test connects")
        assert second.error == (
            "refused: rebind.test is a loopback address (127.0.0.1); a feed and its links may "
            "reach one only on the feed's own host, or with settings.allow_private_networks = true"
        )
        assert server.hits == []
        [allowed] = fetch_all([Request(url=url)], FetchOptions(transport=transport))
        assert allowed.body == b"instance credentials"  # what the refusal kept out
    finally:
        transport.close()


def test_a_redirect_to_a_rebound_name_is_refused(server: LocalServer) -> None:
    port = server.base.rsplit(":", 1)[1]
    server.add("/secret", b"secret")
    feed = server.add(
        "/feed", status=302, headers={"Location": f"http://rebind.test:{port}/secret"}
    )
    transport = Transport(resolver=Rebinding(first="127.0.0.1"), network=LoopbackOnly())
    try:
        [result] = fetch_all(
            [Request(url=feed, allow_private=False, trusted_host="127.0.0.1")],
            FetchOptions(transport=transport),
        )
    finally:
        transport.close()
    assert result.error.startswith("refused: rebind.test is a loopback address (127.0.0.1)")
    assert server.hits == [("/feed", 302)]


def test_a_pooled_connection_to_a_private_address_is_not_lent_to_an_untrusted_hop(
    server: LocalServer,
) -> None:
    """A feed's own host may be private; the connection its fetch leaves in the pool must
    not carry another feed's link to that host."""
    port = server.base.rsplit(":", 1)[1]
    server.add("/feed", FEED)
    server.add("/page", b"intranet page")
    base = f"http://intranet.test:{port}"
    transport = Transport(resolver=lambda host, port: ["127.0.0.1"], network=LoopbackOnly())
    try:
        own, other = fetch_all(
            [
                Request(url=f"{base}/feed", allow_private=False, trusted_host="intranet.test"),
                Request(url=f"{base}/page", allow_private=False, trusted_host="news.test"),
            ],
            FetchOptions(transport=transport, concurrency=1),
        )
    finally:
        transport.close()
    assert own.status == "ok"
    assert other.error.startswith("refused: intranet.test is a loopback address (127.0.0.1)")
    assert server.hits == [("/feed", 200)]


def test_a_name_that_resolves_to_nothing_is_a_dns_failure() -> None:
    def nxdomain(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    transport = Transport(resolver=nxdomain, network=LoopbackOnly())
    try:
        [result] = fetch_all(
            [Request(url="http://gone.test/feed", allow_private=False)],
            FetchOptions(transport=transport),
        )
    finally:
        transport.close()
    assert result.error == "could not resolve host 'gone.test'"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_to_a_checked_address_still_names_the_host(tmp_path: Path) -> None:
    """Connecting to the address checked, not the name, must keep SNI and the certificate
    check on the name."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=news.test"),
            *("-addext", "subjectAltName=DNS:news.test"),
        ],
        check=True,
        capture_output=True,
    )
    named: list[str | None] = []
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(cert, key)

    def sni(sock: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        named.append(name)

    served.sni_callback = sni

    class Answer(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(b"news")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    httpd.socket = served.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    transport = Transport(
        resolver=lambda host, port: ["127.0.0.1"],
        network=LoopbackOnly(),
        verify=ssl.create_default_context(cafile=str(cert)),
    )
    try:
        ok, other = fetch_all(
            [Request(url=f"https://news.test:{port}/"), Request(url=f"https://other.test:{port}/")],
            FetchOptions(transport=transport, concurrency=1),
        )
    finally:
        transport.close()
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert (ok.status, ok.body) == ("ok", b"news"), ok.error
    assert "other.test" in other.error and "certificate" in other.error.lower(), other.error
    assert named == ["news.test", "other.test"]
