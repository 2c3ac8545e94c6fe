"""Shared fixtures: a real HTTP server on 127.0.0.1, the sample corpus, configs."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from briefings import corpus

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@dataclass
class Route:
    """What the test server answers on one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    conditional: bool = False
    fail_first: int = 0
    """Answer the first N requests with ``fail_status`` and ``fail_headers`` instead."""
    fail_status: int = 429
    fail_headers: dict[str, str] = field(default_factory=dict)
    auth: str = ""
    """``user:password`` a request must give (HTTP Basic), or it is answered 401."""


@dataclass
class LocalServer:
    """A threaded HTTP server on 127.0.0.1 whose routes tests set as they go."""

    base: str
    routes: dict[str, Route]
    hits: list[tuple[str, int]]
    times: list[tuple[str, float]] = field(default_factory=list)
    active: int = 0
    most_active: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes | str = b"", **options: Any) -> str:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(body=data, **options)
        return self.url(path)


class _Handler(BaseHTTPRequestHandler):
    server_state: LocalServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

    def do_GET(self) -> None:
        state = self.server_state
        path = self.path.split("?")[0]
        with state.lock:
            state.times.append((path, time.monotonic()))
            state.active += 1
            state.most_active = max(state.most_active, state.active)
        try:
            self._answer(state, path)
        finally:
            with state.lock:
                state.active -= 1

    def _answer(self, state: LocalServer, path: str) -> None:
        route = state.routes.get(path)
        if route is None:
            self._reply(404, b"not found", {"Content-Type": "text/plain"})
            return
        expected = "Basic " + base64.b64encode(route.auth.encode()).decode()
        if route.auth and self.headers.get("Authorization") != expected:
            state.hits.append((self.path, 401))
            self._reply(401, b"who are you?", {"WWW-Authenticate": 'Basic realm="feeds"'})
            return
        if route.fail_first > 0:
            route.fail_first -= 1
            state.hits.append((self.path, route.fail_status))
            self._reply(route.fail_status, b"try later", route.fail_headers)
            return
        if route.delay:
            time.sleep(route.delay)
        headers = dict(route.headers)
        if route.conditional:
            etag = f'"{hash(route.body) & 0xFFFFFFFF:x}"'
            headers |= {"ETag": etag, "Last-Modified": "Sat, 21 Nov 2026 10:00:00 GMT"}
            if self.headers.get("If-None-Match") == etag:
                state.hits.append((self.path, 304))
                self._reply(304, b"", headers)
                return
        state.hits.append((self.path, route.status))
        self._reply(route.status, route.body, headers)

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that give up (timeouts, size caps) reset the connection on purpose


@pytest.fixture
def server() -> Iterator[LocalServer]:
    handler = type("Handler", (_Handler,), {})
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    state = LocalServer(base=f"http://127.0.0.1:{httpd.server_address[1]}", routes={}, hits=[])
    handler.server_state = state
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="session")
def sample_corpus() -> corpus.Corpus:
    return corpus.load_corpus()


@pytest.fixture
def sample_site(sample_corpus: corpus.Corpus) -> Iterator[corpus.Site]:
    with corpus.serve(sample_corpus, now=NOW) as site:
        yield site


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "feeds.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@dataclass
class SampleRun:
    """The whole pipeline run once over the sample corpus, kept for many tests."""

    config: Any
    store: Any
    built: list[Any]
    report: Any
    site: corpus.Site


def sample_config(site: corpus.Site, folder: Path) -> Any:
    """The shipped catalogue, with the sample site's feeds and a store in ``folder``."""

    from briefings import config

    base = config.load(Path(__file__).parent.parent / "feeds.toml")
    return site.configure(base, folder / "briefings.db", folder / "out")


@pytest.fixture(scope="session")
def sample_run(
    sample_corpus: corpus.Corpus, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SampleRun]:
    from briefings import pipeline

    folder = tmp_path_factory.mktemp("sample-run")
    with corpus.serve(sample_corpus, now=NOW) as site:
        config = sample_config(site, folder)
        store = pipeline.open_store(config)
        run = pipeline.Run(config=config, store=store, now=NOW)
        built = pipeline.run_once(run)
        yield SampleRun(config=config, store=store, built=built, report=run.report, site=site)
        store.close()


def item_of(site: corpus.Site, url: str) -> corpus.Item:
    """The corpus item whose page ``url`` points at."""
    path = url.split("?")[0].removeprefix(site.base_url)
    outlet, _, name = path.strip("/").partition("/")
    return site.corpus.item(f"{outlet}/{name.removesuffix('.html')}")


@pytest.fixture(scope="session")
def sample_stories(sample_run: SampleRun) -> dict[str, Any]:
    """Every stored sample article, its label (event or own key) and the clusters."""
    from datetime import timedelta

    from briefings import pipeline

    articles = pipeline.articles_of(sample_run.store, since=NOW - timedelta(days=60))
    labels = {}
    for article in articles:
        item = item_of(sample_run.site, article.url)
        labels[article.id] = item.event or item.key
    groups, _ = pipeline.cluster_articles(articles, pipeline.topic_matcher(None))
    return {"articles": articles, "labels": labels, "groups": groups}
