"""Delivery against a real SMTP server (aiosmtpd) on 127.0.0.1, and the unsubscribe endpoint."""

from __future__ import annotations

import email
import email.policy
import os
import quopri
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from hypothesis import given, settings
from hypothesis import strategies as st

from briefings import config as configuration
from briefings import deliver, pipeline, unsubscribe
from briefings.errors import ConfigError
from briefings.model import Edition, Subscriber
from briefings.store import Store

from .conftest import NOW
from .editions import LAYOUTS, STORIES, edition

SECRET = "a-secret-for-tests-only-0123456789"


class Sink:
    """An SMTP handler that keeps every message, and can refuse or stop the sender."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.temporary: dict[str, int] = {}  # address → how many 451s before accepting
        self.permanent: set[str] = set()
        self.kill_after: tuple[int, int] | None = None  # (count, pid)
        self.lock = threading.Lock()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.permanent:
            return "550 5.1.1 mailbox unavailable"
        if self.temporary.get(address, 0) > 0:
            self.temporary[address] -= 1
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, envelope.content))
            if self.kill_after and len(self.messages) == self.kill_after[0]:
                os.kill(self.kill_after[1], signal.SIGKILL)  # the sender dies before our 250
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    yield sink, port
    controller.stop()


SAMPLE = """
[briefings.sample]
title = "Sample Briefing"
topics = ["turkey", "caucasus", "israel", "energy"]
pro_sections = ["energy"]
schedule = "0 7 * * *"
subject = "{title} — {date:%a %d %b}"
"""
INDUSTRY = """
[briefings.sample]
title = "PRO Industries"
format = "industry"
tier = "pro"
topics = ["oil-gas", "banking"]
schedule = "0 9 * * thu"
"""


def setup(
    tmp_path: Path,
    port: int,
    subscribers: list[Subscriber],
    method: str = "smtp",
    made: Edition | None = None,
    briefing: str = SAMPLE,
    layout: str = "daily",
) -> configuration.Config:
    path = tmp_path / "feeds.toml"
    path.write_text(
        f"""
[settings]
upgrade_url = "https://briefings.example.org/subscribe"

[delivery]
from = "Briefings <briefings@example.org>"
method = "{method}"
smtp_host = "127.0.0.1"
smtp_port = {port}
smtp_security = "none"
rate = 1000
base_url = "https://briefings.example.org"
{briefing}""",
        encoding="utf-8",
    )
    loaded = configuration.load(path)
    store = pipeline.open_store(loaded)
    made = made or edition()
    from briefings import render

    rendered = render.render(made, env=render.environment(), timezone="UTC", layout=LAYOUTS[layout])
    _, folder = pipeline.publish(loaded, made, rendered)
    store.record_edition(made, path=str(folder))
    store.save_subscribers(subscribers, now=NOW)
    store.close()
    return loaded


def send(loaded: configuration.Config, **options: Any) -> pipeline.SendReport:
    store = pipeline.open_store(loaded)
    try:
        return pipeline.send_edition(
            loaded,
            store,
            "sample",
            senders=lambda: (
                deliver.SmtpSender(loaded.delivery, backoff=0.01)
                if loaded.delivery.method == "smtp"
                else pipeline.make_sender(loaded)
            ),
            secret=SECRET.encode(),
            now=NOW,
            **options,
        )
    finally:
        store.close()


def people(count: int, tier: str = "free") -> list[Subscriber]:
    return [
        Subscriber(
            email=f"reader{n}@example.net", name=f"Reader {n}", tier=tier, briefings=("sample",)
        )
        for n in range(count)
    ]


def test_messages_carry_every_header(smtp: tuple[Sink, int], tmp_path: Path) -> None:
    sink, port = smtp
    readers = [
        Subscriber(email="free@example.net", name="Free Reader", briefings=("sample",)),
        Subscriber(email="pro@example.net", name="Pro Reader", tier="pro", briefings=("sample",)),
    ]
    loaded = setup(tmp_path, port, readers)
    report = send(loaded)
    assert (report.sent, report.failed) == (2, []), report.failed[0][1]
    got = {
        rcpt: email.message_from_bytes(data, policy=email.policy.default)
        for rcpt, data in sink.messages
    }
    for address, msg in got.items():
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert msg["From"] == "Briefings <briefings@example.org>"
        assert address in msg["To"]
        assert msg["Subject"] == "Sample Briefing — Sun 22 Nov"
        assert msg["Date"] and msg["Message-ID"].endswith("@example.org>")
        assert msg["List-Id"] == "Sample Briefing <sample.example.org>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # RFC 3834: no vacation or out-of-office reply to each subscriber's copy
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["Precedence"] == "bulk"
        mailto, https = (v.strip(" <>") for v in msg["List-Unsubscribe"].split(","))
        assert mailto.startswith("mailto:unsubscribe@example.org")
        assert https.startswith("https://briefings.example.org/unsubscribe?")
        html = msg.get_body(("html",)).get_content()
        assert https.replace("&", "&amp;") in html or https in html  # personal links in the body
        assert "unsubscribe.invalid" not in html
    assert "Upgrade to PRO" in got["free@example.net"].get_body(("html",)).get_content()
    assert "Upgrade to PRO" not in got["pro@example.net"].get_body(("html",)).get_content()


def test_a_free_reader_gets_a_pro_lead_as_a_teaser(smtp: tuple[Sink, int], tmp_path: Path) -> None:

    made = edition()
    pro_lead = replace(
        made.stories[4],
        summary=(
            "The deal was signed in Doha today by both sides. PRO-ONLY-DETAIL: its price terms."
        ),
    )
    made = replace(made, stories=(pro_lead, *made.stories[:4], *made.stories[5:]))
    sink, port = smtp
    readers = [
        Subscriber(email="free@example.net", briefings=("sample",)),
        Subscriber(email="pro@example.net", tier="pro", briefings=("sample",)),
    ]
    loaded = setup(tmp_path, port, readers, made=made)
    assert send(loaded).sent == 2
    got = {
        rcpt: email.message_from_bytes(data, policy=email.policy.default)
        for rcpt, data in sink.messages
    }
    for kind in ("html", "plain"):
        free = got["free@example.net"].get_body((kind,)).get_content()
        assert "PRO-ONLY-DETAIL" not in free
        assert "QatarEnergy signs" in free and "with PRO" in free
        assert "PRO-ONLY-DETAIL" in got["pro@example.net"].get_body((kind,)).get_content()


def test_sent_links_start_at_the_delivery_base_url(smtp: tuple[Sink, int], tmp_path: Path) -> None:
    sink, port = smtp
    loaded = setup(tmp_path, port, people(1), made=edition(80, long=True))
    assert loaded.settings.base_url == ""  # only [delivery] base_url is set
    assert send(loaded).sent == 1
    msg = email.message_from_bytes(sink.messages[0][1], policy=email.policy.default)
    web = "https://briefings.example.org/sample/2026-11-22-1200/index.html"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert f"View in your browser: {web}" in text
    assert f'href="{web}"' in html and "web edition</a>" in html
    assert 'href="index.html"' not in html and 'href="../index.html"' not in html
    assert 'href="https://briefings.example.org/subscribe"' in html  # settings.upgrade_url
    written = (loaded.settings.output / "sample" / "2026-11-22-1200" / "email.txt").read_text()
    assert "View in your browser: index.html" in written  # the folder's own copy stays local


def test_451_is_retried_and_550_fails_only_that_reader(
    smtp: tuple[Sink, int], tmp_path: Path
) -> None:
    sink, port = smtp
    sink.temporary["reader1@example.net"] = 2
    sink.permanent.add("reader2@example.net")
    loaded = setup(tmp_path, port, people(5))
    report = send(loaded)
    assert report.sent == 4
    assert [(e, err[:3]) for e, err in report.failed] == [("reader2@example.net", "550")]
    assert sorted(r for r, _ in sink.messages) == [f"reader{n}@example.net" for n in (0, 1, 3, 4)]
    again = send(loaded)  # the ledger: nobody twice, the failure not retried by itself
    assert (again.sent, again.already) == (0, 5)
    assert len(sink.messages) == 4


def test_a_killed_sender_resumes_without_duplicates(smtp: tuple[Sink, int], tmp_path: Path) -> None:
    sink, port = smtp
    loaded = setup(tmp_path, port, people(200))
    environment = {**os.environ, "BRIEFINGS_SECRET": SECRET}
    command = [
        sys.executable,
        "-m",
        "briefings.cli",
        "--config",
        str(loaded.path),
        "send",
        "sample",
    ]
    first = subprocess.Popen(
        command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sink.kill_after = (100, first.pid)
    first.wait(timeout=120)
    assert first.returncode == -signal.SIGKILL
    assert len(sink.messages) == 100
    sink.kill_after = None
    second = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120)
    assert "in doubt 1" in second.stdout  # the one being sent at the kill is held back
    delivered = Counter(rcpt for rcpt, _ in sink.messages)
    assert len(delivered) == 200  # every reader got the edition
    assert max(delivered.values()) == 1  # and nobody got it twice


def test_outbox_dry_run_test_address_and_min_stories(tmp_path: Path) -> None:
    loaded = setup(tmp_path, 25, people(3), method="outbox")
    dry = send(loaded, dry_run=True)
    assert (dry.prepared, dry.sent) == (3, 0)
    assert not loaded.delivery.outbox.exists() or not list(loaded.delivery.outbox.iterdir())
    test = send(loaded, to="editor@example.org")
    assert test.sent == 1
    report = send(loaded)
    assert report.sent == 3  # the test message was not recorded against anyone
    files = sorted(loaded.delivery.outbox.glob("*.eml"))
    assert len(files) == 4
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    strict = replace(loaded, briefings=(replace(loaded.briefings[0], min_stories=50),))
    assert send(strict).skipped_reason == "9 stories, fewer than min_stories = 50"


def test_header_values_cannot_carry_injected_lines() -> None:
    from briefings.config import Briefing, Delivery

    briefing = Briefing(
        id="b",
        title="B\r\nBcc: evil@example.com",
        description="",
        topics=(),
        schedule="0 7 * * *",
        window=NOW - NOW,
        repeat_window=NOW - NOW,
        max_stories=5,
        min_score=None,
    )
    delivery = Delivery(
        sender="B <b@example.org>",
        method="outbox",
        outbox=Path("x"),
        smtp_host="h",
        smtp_port=25,
        smtp_security="none",
        rate=1.0,
        connections=1,
        base_url="https://b.example.org",
        dkim_key=None,
        dkim_selector="s",
    )
    msg = deliver.message(
        edition=edition(),
        briefing=briefing,
        subscriber=Subscriber(email="r@example.net", name="R\nBcc: x@y.z"),
        html="<p>x</p>",
        text="x",
        delivery=delivery,
        secret=b"s" * 20,
        timezone="UTC",
        now=NOW,
    )
    raw = msg.data.decode()
    assert "\nBcc:" not in raw
    parsed = email.message_from_bytes(msg.data, policy=email.policy.default)
    assert parsed["Subject"].startswith("B Bcc: evil@example.com")  # one line, harmless
    assert parsed["Bcc"] is None


def post(url: str) -> int:
    """An RFC 8058 one-click request, as a mail client sends it."""
    request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST")
    with urllib.request.urlopen(request) as response:
        return int(response.status)


def test_unsubscribe_endpoint(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/b.db")
    store.save_subscribers(
        [Subscriber(email="reader@example.net", briefings=("sample", "daily"))], now=NOW
    )
    secret = SECRET.encode()
    with unsubscribe.running(store, secret) as base:
        good = deliver.unsubscribe_url(base, secret, "reader@example.net", "sample")
        with urllib.request.urlopen(good) as response:
            page = response.read().decode()
        assert "Stop sending <strong>sample</strong>" in page and 'method="post"' in page
        assert store.list_subscribers()[0].briefings == ("sample", "daily")  # GET changes nothing
        forged = deliver.unsubscribe_url(
            base, b"another-secret-entirely", "reader@example.net", "sample"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            post(forged)
        assert refused.value.code == 403
        refused.value.close()
        assert post(good) == 200
        assert store.list_subscribers()[0].briefings == ("daily",)
        assert post(deliver.unsubscribe_url(base, secret, "reader@example.net", "daily")) == 200
        assert store.list_subscribers()[0].status == "unsubscribed"
    store.close()


def test_unsubscribe_pages_name_the_briefing_and_head_changes_nothing(tmp_path: Path) -> None:
    import http.client

    store = Store(f"sqlite:///{tmp_path}/b.db")
    store.save_subscribers([Subscriber(email="reader@example.net", briefings=("sample",))], now=NOW)
    secret = SECRET.encode()
    choices = unsubscribe.Choices(briefings=(("sample", "Caucasus Weekly", "free"),))
    with unsubscribe.running(store, secret, choices=choices) as base:
        good = deliver.unsubscribe_url(base, secret, "reader@example.net", "sample")
        # a mail scanner checks the link with HEAD, then a GET on the same connection
        connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
        target = good.removeprefix(base)
        connection.request("HEAD", target)
        head = connection.getresponse()
        assert (head.status, head.read()) == (200, b"")
        assert int(head.headers["Content-Length"]) > 0
        connection.request("GET", target)
        page = connection.getresponse().read().decode()
        connection.close()
        assert "Stop sending <strong>Caucasus Weekly</strong>" in page
        assert store.list_subscribers()[0].status == "active"
        request = urllib.request.Request(good, data=b"", method="POST")
        with urllib.request.urlopen(request) as response:
            done = response.read().decode()
        assert "will get no more Caucasus Weekly emails" in done
        assert store.list_subscribers()[0].status == "unsubscribed"
    store.close()


@pytest.mark.parametrize("method", ["smtp", "outbox"])
def test_dkim_signatures_verify(smtp: tuple[Sink, int], tmp_path: Path, method: str) -> None:
    import base64

    import dkim

    sink, port = smtp
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    loaded = setup(tmp_path, port, people(2), method=method)
    text = (tmp_path / "feeds.toml").read_text(encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(
        text.replace(
            'base_url = "', 'dkim_key = "dkim.pem"\ndkim_selector = "may2026"\nbase_url = "'
        ),
        encoding="utf-8",
    )
    loaded = configuration.load(tmp_path / "feeds.toml")
    store = pipeline.open_store(loaded)
    try:
        report = pipeline.send_edition(
            loaded,
            store,
            "sample",
            senders=lambda: pipeline.make_sender(loaded),
            secret=SECRET.encode(),
            now=NOW,
        )
    finally:
        store.close()
    assert report.sent == 2
    if method == "smtp":
        received = [data for _, data in sink.messages]
    else:
        received = [path.read_bytes() for path in sorted(loaded.delivery.outbox.glob("*.eml"))]
    assert len(received) == 2

    def dns(name: bytes, timeout: int = 5) -> bytes | None:
        return record if name == b"may2026._domainkey.example.org." else None

    for data in received:
        assert data.startswith(b"DKIM-Signature:")
        signature = email.message_from_bytes(data)["DKIM-Signature"]
        assert "d=example.org" in signature and "s=may2026" in signature
        assert "list-unsubscribe" in signature.lower()
        assert dkim.verify(data, dnsfunc=dns)
        tampered = data.replace(b"Sample Briefing", b"Sample Bulletin", 1)
        assert not dkim.verify(tampered, dnsfunc=dns)


def test_preferences_page(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path}/b.db")
    store.save_subscribers(
        [
            Subscriber(email="Pro@example.net", tier="pro", briefings=("daily",)),
            Subscriber(email="free@example.net", briefings=("daily",)),
        ],
        now=NOW,
    )
    choices = unsubscribe.Choices(
        briefings=(("daily", "Daily <Briefing>", "free"), ("energy", "Energy Weekly", "pro")),
        industries=(("energy", "Energy"), ("defense", "Defense"), ("banking", "Banking")),
    )
    secret = SECRET.encode()
    with unsubscribe.running(store, secret, choices=choices) as base:
        link = deliver.unsubscribe_url(base, secret, "pro@example.net", "daily").replace(
            "/unsubscribe?", "/preferences?"
        )
        with urllib.request.urlopen(link) as response:
            page = response.read().decode()
        assert "Daily &lt;Briefing&gt;" in page and 'name="rank-defense"' in page
        form = "briefing=daily&briefing=energy&rank-banking=1&rank-energy=2&rank-defense="
        with urllib.request.urlopen(urllib.request.Request(link, data=form.encode())) as response:
            assert "Saved." in response.read().decode()
        saved = store.subscriber("pro@example.net")
        assert saved is not None
        assert saved.briefings == ("daily", "energy") and saved.industries == ("banking", "energy")

        # a free reader cannot pick a PRO briefing, and sees no industries
        free = deliver.unsubscribe_url(base, secret, "free@example.net", "daily").replace(
            "/unsubscribe?", "/preferences?"
        )
        with urllib.request.urlopen(free) as response:
            page = response.read().decode()
        assert 'value="energy" disabled' in page and "rank-" not in page
        with urllib.request.urlopen(
            urllib.request.Request(free, data=b"briefing=energy&rank-energy=1")
        ) as response:
            response.read()
        saved = store.subscriber("free@example.net")
        assert saved is not None and saved.briefings == () and saved.status == "unsubscribed"
        with urllib.request.urlopen(
            urllib.request.Request(free, data=b"briefing=daily")
        ) as response:
            response.read()
        saved = store.subscriber("free@example.net")
        assert saved is not None and saved.briefings == ("daily",) and saved.status == "active"

        # a PRO briefing a free reader has (given by an editor) survives Save
        store.save_subscribers(
            [Subscriber(email="free@example.net", briefings=("daily", "energy"))], now=NOW
        )
        with urllib.request.urlopen(free) as response:
            assert 'value="energy" checked disabled' in response.read().decode()
        with urllib.request.urlopen(
            urllib.request.Request(free, data=b"briefing=daily")
        ) as response:
            response.read()
        saved = store.subscriber("free@example.net")
        assert saved is not None and saved.briefings == ("daily", "energy")

        forged = free.replace("free%40example.net", "pro%40example.net")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(forged, data=b"briefing=daily"))
        assert refused.value.code == 403
        refused.value.close()
        saved = store.subscriber("pro@example.net")
        assert saved is not None and saved.briefings == ("daily", "energy")
    store.close()


def test_sending_needs_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIEFINGS_SECRET", raising=False)
    with pytest.raises(deliver.DeliveryError, match="BRIEFINGS_SECRET must be set"):
        deliver.secret_from_environment()


@given(
    before=st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    after=st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    address=st.from_regex(r"[a-z0-9.+]{1,80}@example\.net", fullmatch=True),
)
@settings(max_examples=200, deadline=None)
def test_personal_links_survive_quoted_printable(before: str, after: str, address: str) -> None:
    body = f"{before}{deliver.UNSUBSCRIBE}{after}{deliver.PREFERENCES}\n"
    unsubscribe_link = deliver.unsubscribe_url("https://b.example.org", b"s" * 16, address, "daily")
    links = {
        deliver.UNSUBSCRIBE: unsubscribe_link,
        deliver.PREFERENCES: unsubscribe_link.replace("/unsubscribe?", "/preferences?"),
    }
    encoded = deliver._quoted_personal(body, links, html=True)
    expected = body.replace("\r\n", "\n").replace("\r", "\n")
    for placeholder, link in links.items():
        expected = expected.replace(placeholder, link.replace("&", "&amp;"))
    assert quopri.decodestring(encoded.replace(b"\r\n", b"\n")).decode() == expected
    assert all(len(line) <= 76 for line in encoded.split(b"\r\n")[-3:])  # the links' lines


def test_lines_starting_with_a_dot_arrive_intact(smtp: tuple[Sink, int], tmp_path: Path) -> None:
    sink, port = smtp
    loaded = setup(tmp_path, port, [])
    data = b"Subject: dots\r\n\r\n.starts with a dot\r\n.\r\n..two\r\nlast line without end"
    sender = deliver.SmtpSender(loaded.delivery)
    try:
        outcome = sender.send(
            deliver.Prepared(
                recipient="dots@example.net", sender="b@example.org", message_id="<x@y>", data=data
            )
        )
    finally:
        sender.close()
    assert outcome.status == "sent"
    assert sink.messages == [("dots@example.net", data + b"\r\n")]


def edition_status(loaded: configuration.Config) -> str:
    store = pipeline.open_store(loaded)
    try:
        record = store.edition("sample", edition().edition)
        assert record is not None
        return record.status
    finally:
        store.close()


def test_no_connection_leaves_everyone_to_a_later_send(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    loaded = setup(tmp_path, port, people(2))
    with pytest.raises(deliver.DeliveryError) as refused:
        send(loaded)
    assert str(refused.value) == f"smtp://127.0.0.1:{port}: cannot connect: Connection refused"
    assert edition_status(loaded) == "failed"
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        report = send(loaded)
    finally:
        controller.stop()
    assert (report.sent, report.in_doubt, report.failed) == (2, [], [])
    assert len(sink.messages) == 2
    assert edition_status(loaded) == "sent"


def test_the_scheduler_tries_again_when_the_mail_server_was_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edition whose send found no mail server stayed ``failed`` until someone ran
    ``briefings send``: a mail server down at 07:00 lost the morning edition. ``dispatch``
    now tries again after each of ``RETRY_DELAYS``, and then gives up."""
    from datetime import timedelta

    from briefings import schedule as scheduling
    from briefings.errors import BriefingsError

    monkeypatch.setenv("BRIEFINGS_SECRET", SECRET)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    loaded = setup(tmp_path, port, people(3))
    store = pipeline.open_store(loaded)
    made = edition()
    record = store.edition("sample", made.edition)
    assert record is not None
    assert store.move_edition("sample", made.edition, "sending", expected=("approved",), now=NOW)
    with pytest.raises(deliver.DeliveryError):
        scheduling.send_record(loaded, store, record, now=NOW)  # as the edition job does
    assert edition_status(loaded) == "failed"
    first = scheduling.RETRY_DELAYS[0]
    assert scheduling.dispatch(loaded, store, now=NOW + first - timedelta(seconds=1)) == []
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        [report] = scheduling.dispatch(loaded, store, now=NOW + first)
    finally:
        controller.stop()
    assert report.sent == 3 and len(sink.messages) == 3
    assert edition_status(loaded) == "sent"
    assert scheduling.dispatch(loaded, store, now=NOW + timedelta(hours=1)) == []

    # still down after every try: given up, and left to `briefings send`
    store.move_edition("sample", made.edition, "failed", expected=("sent",), now=NOW)
    store.forget_deliveries("sample", made.edition)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE editions SET attempts = 0, retry_at = NULL")
    assert store.move_edition("sample", made.edition, "sending", expected=("failed",), now=NOW)
    moment = NOW
    with pytest.raises(deliver.DeliveryError):
        scheduling.send_record(loaded, store, record, now=moment)
    tries = 1
    for delay in scheduling.RETRY_DELAYS:
        moment += delay
        with pytest.raises(BriefingsError):
            scheduling.dispatch(loaded, store, now=moment)
        tries += 1
    assert tries == len(scheduling.RETRY_DELAYS) + 1
    assert scheduling.dispatch(loaded, store, now=moment + timedelta(hours=6)) == []
    assert edition_status(loaded) == "failed"
    store.close()


def test_a_refused_login_is_one_line_and_sends_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aiosmtpd.smtp import AuthResult

    def authenticator(*_: Any) -> AuthResult:
        return AuthResult(success=False, handled=False)

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(
        sink, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    monkeypatch.setenv("BRIEFINGS_SMTP_USER", "briefings")
    monkeypatch.setenv("BRIEFINGS_SMTP_PASSWORD", "wrong")
    try:
        loaded = setup(tmp_path, port, people(2))
        for _ in range(2):  # and again: nobody is left in doubt
            with pytest.raises(deliver.DeliveryError) as refused:
                send(loaded)
            assert str(refused.value) == (
                f"smtp://127.0.0.1:{port}: authentication failed: "
                "535 5.7.8 Authentication credentials invalid"
            )
            assert edition_status(loaded) == "failed"
    finally:
        controller.stop()
    assert sink.messages == []
    store = pipeline.open_store(loaded)
    assert store.ledger("sample", edition().edition) == {}
    store.close()


@pytest.mark.parametrize(
    ("security", "hint"),
    [
        ("starttls", 'the server offers no STARTTLS: set delivery.smtp_security = "none"'),
        ("tls", 'the server does not start with TLS: set delivery.smtp_security = "starttls"'),
    ],
)
def test_a_server_without_tls_says_which_setting_to_change(
    smtp: tuple[Sink, int], tmp_path: Path, security: str, hint: str
) -> None:
    """A relay without TLS (aiosmtpd, a local Postfix) with the default ``starttls`` said
    only "cannot connect: STARTTLS extension not supported by server.", and ``tls`` an
    OpenSSL "WRONG_VERSION_NUMBER": neither named the setting to change."""
    sink, port = smtp
    setup(tmp_path, port, people(1))
    path = tmp_path / "feeds.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('smtp_security = "none"', f'smtp_security = "{security}"'))
    with pytest.raises(deliver.DeliveryError) as refused:
        send(configuration.load(path))
    assert str(refused.value).startswith(f"smtp://127.0.0.1:{port}: {hint}"), refused.value
    assert "\n" not in str(refused.value)
    assert sink.messages == []


@pytest.mark.parametrize("method", ["smtp", "outbox"])
def test_a_malformed_dkim_key_is_one_line(
    smtp: tuple[Sink, int], tmp_path: Path, method: str
) -> None:
    sink, port = smtp
    setup(tmp_path, port, people(2), method=method)
    (tmp_path / "dkim.pem").write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n"
    )
    text = (tmp_path / "feeds.toml").read_text(encoding="utf-8")
    (tmp_path / "feeds.toml").write_text(
        text.replace('base_url = "', 'dkim_key = "dkim.pem"\nbase_url = "'), encoding="utf-8"
    )
    loaded = configuration.load(tmp_path / "feeds.toml")
    store = pipeline.open_store(loaded)
    try:
        with pytest.raises(deliver.DeliveryError) as refused:
            pipeline.send_edition(
                loaded,
                store,
                "sample",
                senders=lambda: pipeline.make_sender(loaded),
                secret=SECRET.encode(),
                now=NOW,
            )
        assert store.ledger("sample", edition().edition) == {}
    finally:
        store.close()
    assert str(refused.value).startswith("delivery.dkim_key: not a valid private key")
    assert sink.messages == []


def test_an_unusable_message_fails_only_its_subscriber(
    smtp: tuple[Sink, int], tmp_path: Path
) -> None:
    sink, port = smtp
    assert sink.messages == []
    evil = Subscriber(email="evil@example.net", name="Evil\x07Bell", briefings=("sample",))
    loaded = setup(tmp_path, port, [*people(1), evil, *people(3)[1:]])  # stored before the check
    report = send(loaded)
    assert report.sent == 3 and [email for email, _ in report.failed] == ["evil@example.net"]
    assert "unusable characters in To" in report.failed[0][1]
    assert edition_status(loaded) == "sent"
    again = send(loaded)
    assert (again.sent, again.already, again.failed) == (0, 4, [])
    assert len(sink.messages) == 3


def test_list_id_quotes_a_name_with_specials() -> None:
    from email.utils import parseaddr

    from briefings.config import Briefing, Delivery

    def list_id(title: str) -> str:
        briefing = Briefing(
            id="all",
            title=title,
            description="",
            topics=(),
            schedule="0 7 * * *",
            window=NOW - NOW,
            repeat_window=NOW - NOW,
            max_stories=5,
            min_score=None,
        )
        delivery = Delivery(
            sender="B <b@all.example.org>",
            method="outbox",
            outbox=Path("x"),
            smtp_host="h",
            smtp_port=25,
            smtp_security="none",
            rate=1.0,
            connections=1,
            base_url="https://b.example.org",
            dkim_key=None,
            dkim_selector="s",
        )
        data = deliver.message(
            edition=edition(),
            briefing=briefing,
            subscriber=Subscriber(email="r@example.net"),
            html="<p>x</p>",
            text="x",
            delivery=delivery,
            secret=b"s" * 20,
            timezone="UTC",
            now=NOW,
        ).data
        raw = next(line for line in data.split(b"\r\n") if line.startswith(b"List-Id: "))
        return raw.decode()[len("List-Id: ") :]

    value = list_id("All <b>Stories</b> & More")
    assert value == '"All <b>Stories</b> & More" <all.all.example.org>'
    assert parseaddr(value) == ("All <b>Stories</b> & More", "all.all.example.org")
    assert list_id('Say "hi", Dr. Who') == r'"Say \"hi\", Dr. Who" <all.all.example.org>'
    assert list_id("Daily Briefing") == "Daily Briefing <all.all.example.org>"
    assert list_id("Türkiye <Daily>").startswith("=?utf-8?")  # an encoded word, no quotes


def test_a_trimmed_email_fits_gmail_as_sent(smtp: tuple[Sink, int], tmp_path: Path) -> None:
    sink, port = smtp
    readers = [
        Subscriber(email="free@example.net", briefings=("sample",)),
        Subscriber(email="pro@example.net", tier="pro", briefings=("sample",)),
    ]
    loaded = setup(tmp_path, port, readers, made=edition(80, long=True))
    assert send(loaded).sent == 2
    for _, data in sink.messages:
        assert len(data) <= 102 * 1024, f"Gmail clips a message of {len(data):,} bytes"
        msg = email.message_from_bytes(data, policy=email.policy.default)
        for kind in ("plain", "html"):
            assert "more stories in the" in msg.get_body((kind,)).get_content()


@given(st.text(alphabet=st.sampled_from("ab =.\r\n\tç😀<>שלוםمرحبا"), max_size=400))
@settings(max_examples=200, deadline=None)
def test_render_measures_a_body_as_deliver_encodes_it(body: str) -> None:
    from briefings import render

    assert render.sent_size(body) == len(deliver._personal(body, {}, html=False)[1])


def test_a_hebrew_edition_goes_as_base64_with_each_readers_links(
    smtp: tuple[Sink, int], tmp_path: Path
) -> None:
    """A body mostly in Hebrew is base64 (quoted-printable triples each of its bytes), and
    each reader's links are in it; English ones stay quoted-printable."""
    from dataclasses import replace

    hebrew = "הכנסת אישרה הלילה את חוק התקציב בקריאה שנייה ושלישית לאחר דיון ארוך. " * 4
    made = edition()
    made = replace(
        made, stories=tuple(replace(s, title=hebrew[:40], summary=hebrew) for s in made.stories)
    )
    sink, port = smtp
    readers = [Subscriber(email="r@example.net", briefings=("sample",))]
    loaded = setup(tmp_path, port, readers, made=made)
    assert send(loaded).sent == 1
    data = sink.messages[0][1]
    assert data.count(b"Content-Transfer-Encoding: base64\r\n") >= 1  # the text part at least
    assert all(len(line) <= 76 for line in data.split(b"\r\n\r\n", 1)[1].split(b"\r\n"))
    msg = email.message_from_bytes(data, policy=email.policy.default)
    unsubscribe = deliver.unsubscribe_url(
        "https://briefings.example.org", SECRET.encode(), "r@example.net", "sample"
    )
    text, html = (msg.get_body((kind,)).get_content() for kind in ("plain", "html"))
    assert hebrew.split(".")[0] in text and hebrew.split(".")[0] in html
    assert f"Unsubscribe: {unsubscribe}" in text
    assert f'href="{escape(unsubscribe)}"' in html
    assert deliver.UNSUBSCRIBE not in text + html
    (tmp_path / "english").mkdir()
    english = setup(tmp_path / "english", port, readers)
    sink.messages.clear()
    assert send(english).sent == 1
    assert sink.messages[0][1].count(b"Content-Transfer-Encoding: quoted-printable\r\n") == 2


def test_industry_readers_get_only_the_industries_they_picked(
    smtp: tuple[Sink, int], tmp_path: Path
) -> None:
    sink, port = smtp
    readers = [
        Subscriber(
            email="oil@example.net", tier="pro", briefings=("sample",), industries=("oil-gas",)
        ),
        Subscriber(email="all@example.net", tier="pro", briefings=("sample",)),
        Subscriber(
            email="elsewhere@example.net",
            tier="pro",
            briefings=("sample",),
            industries=("real-estate",),  # nothing of theirs in this edition's industries
        ),
    ]
    loaded = setup(tmp_path, port, readers, briefing=INDUSTRY, layout="industry")
    assert send(loaded).sent == 3
    text = {
        rcpt: email.message_from_bytes(data, policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
        for rcpt, data in sink.messages
    }
    html = {
        rcpt: email.message_from_bytes(data, policy=email.policy.default)
        .get_body(("html",))
        .get_content()
        for rcpt, data in sink.messages
    }
    assert "OIL & GAS" in text["oil@example.net"]
    assert "QatarEnergy signs" in text["oil@example.net"]
    assert "BANKING" not in text["oil@example.net"]
    assert "Central bank trims" not in text["oil@example.net"]
    assert "Central bank trims" not in html["oil@example.net"]
    for default in ("all@example.net", "elsewhere@example.net"):  # every industry, in order
        body = text[default]
        assert body.index("OIL & GAS") < body.index("BANKING"), default
        assert "QatarEnergy signs" in body and "Gulf lenders post" in body


def test_each_industry_reader_gets_max_stories_of_their_own_picks(
    smtp: tuple[Sink, int], tmp_path: Path
) -> None:
    """The edition holds enough of every industry: a reader of banking alone gets two
    banking stories though neither is among the edition's first two."""
    sink, port = smtp
    readers = [
        Subscriber(
            email="bank@example.net", tier="pro", briefings=("sample",), industries=("banking",)
        ),
        Subscriber(
            email="both@example.net",
            tier="pro",
            briefings=("sample",),
            industries=("oil-gas", "banking"),
        ),
        Subscriber(email="all@example.net", tier="pro", briefings=("sample",)),
        Subscriber(email="free@example.net", briefings=("sample",)),
    ]
    loaded = setup(
        tmp_path, port, readers, briefing=INDUSTRY + "max_stories = 2\n", layout="industry"
    )
    assert send(loaded).sent == 4
    text = {
        rcpt: email.message_from_bytes(data, policy=email.policy.default)
        .get_body(("plain",))
        .get_content()
        for rcpt, data in sink.messages
    }
    headlines = {n: title for n, (title, _, _) in enumerate(STORIES)}

    def shown(rcpt: str) -> set[int]:
        return {n for n, title in headlines.items() if title[:30] in text[rcpt]}

    assert shown("bank@example.net") == {2, 8}  # both banking stories
    assert shown("both@example.net") == {2, 4}  # one of each pick, in turn
    assert shown("all@example.net") == {0, 1}  # the edition's first two, as the web page
    assert shown("free@example.net") == {0, 1}


def test_a_test_message_never_shares_the_real_message_id(
    smtp: tuple[Sink, int], tmp_path: Path
) -> None:
    """Gmail keeps one message per Message-ID: an editor's test to their own address, sent
    again after a fix or before the edition, would hide the next one."""
    sink, port = smtp
    loaded = setup(tmp_path, port, people(1))
    send(loaded, to="reader0@example.net")
    send(loaded, to="reader0@example.net")
    assert send(loaded).sent == 1
    ids = [
        email.message_from_bytes(data, policy=email.policy.default)["Message-ID"]
        for _, data in sink.messages
    ]
    assert len(ids) == 3 and len(set(ids)) == 3, ids


@pytest.mark.parametrize(
    "name",
    [
        "נועה כהן-לוי בת שבע ממשפחת אברהם",  # 33 characters: one 92-character encoded word
        "Ayşe Gülşen Öztürk-Şahinoğlu " * 12,
        "Dana Levi-Montalcini, the Third, of the Long Name Family Society " * 10,
    ],
)
def test_long_display_names_fold_into_short_encoded_words(name: str) -> None:
    """RFC 2047: an encoded word is at most 75 characters; RFC 5322: a line at most 998 (78
    recommended). A name from the subscriber file has no length limit."""
    from email.header import decode_header, make_header

    from briefings.config import Briefing, Delivery

    briefing = Briefing(
        id="b",
        title=name,
        description="",
        topics=(),
        schedule="0 7 * * *",
        window=NOW - NOW,
        repeat_window=NOW - NOW,
        max_stories=5,
        min_score=None,
    )
    delivery = Delivery(
        sender=f'"{name}" <b@example.org>',
        method="outbox",
        outbox=Path("x"),
        smtp_host="h",
        smtp_port=25,
        smtp_security="none",
        rate=1.0,
        connections=1,
        base_url="https://b.example.org",
        dkim_key=None,
        dkim_selector="s",
    )
    data = deliver.message(
        edition=edition(),
        briefing=briefing,
        subscriber=Subscriber(email="r@example.net", name=name),
        html="<p>x</p>",
        text="x",
        delivery=delivery,
        secret=b"s" * 20,
        timezone="UTC",
        now=NOW,
    ).data
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert max(len(line) for line in head.split("\r\n")) <= 998
    for field in head.replace("\r\n ", "\n ").split("\r\n"):
        if field.startswith(("From:", "To:", "Subject:", "List-Id:")):
            assert max(len(line) for line in field.split("\n")) <= 78, field
    assert [w for w in head.split() if "=?" in w and len(w) > 75] == []
    parsed = email.message_from_bytes(data, policy=email.policy.compat32)
    for header in ("From", "To", "Subject", "List-Id"):
        decoded = str(make_header(decode_header(parsed[header])))
        assert " ".join(name.split()) in decoded, header
        ends = {"From": "<b@example.org>", "To": "<r@example.net>", "List-Id": "<b.example.org>"}
        assert decoded.endswith(ends.get(header, "Sun 22 Nov")), header


def test_a_base_url_without_a_scheme_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "feeds.toml"
    path.write_text('[delivery]\nbase_url = "briefings.example.org"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        configuration.load(path)
    assert "delivery.base_url: must start with https:// (or http://)" in str(caught.value)


def test_without_a_base_url_smtp_refuses_to_send_and_check_warns(
    smtp: tuple[Sink, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from briefings.cli import main

    sink, port = smtp
    loaded = setup(tmp_path, port, people(2))
    path = loaded.path
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'base_url = "https://briefings.example.org"\n', ""
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("BRIEFINGS_SECRET", SECRET)
    problem = (
        "feeds.toml: delivery.base_url: not set, nor settings.base_url: the links in sent "
        "emails (view in browser, preferences, unsubscribe) would be relative and lead "
        "nowhere; set the public address of the output folder"
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 0, result.output
    assert f"warning: {problem}" in result.output
    for extra in ([], ["--to", "editor@example.net"]):
        result = CliRunner().invoke(main, ["--config", str(path), "send", "sample", *extra])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == f"error: {problem}"
    assert sink.messages == []
    store = pipeline.open_store(configuration.load(path))
    [record] = store.editions_of("sample")
    assert record.status == "approved"
    store.close()
    result = CliRunner().invoke(main, ["--config", str(path), "send", "sample", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would send 2" in result.output
    # The outbox only writes .eml files to look at: it goes on, and check still warns.
    path.write_text(
        path.read_text(encoding="utf-8").replace('method = "smtp"', 'method = "outbox"'),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--config", str(path), "send", "sample"])
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 2


def test_send_to_takes_an_address_with_its_name(
    smtp: tuple[Sink, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``send --to "Editor Desk <editor@example.net>"``, an address copied from a mail
    client, was refused as "not an email address", though a subscriber file takes it."""
    from click.testing import CliRunner

    from briefings.cli import main

    sink, port = smtp
    path = setup(tmp_path, port, people(1)).path
    monkeypatch.setenv("BRIEFINGS_SECRET", SECRET)
    result = CliRunner().invoke(
        main, ["--config", str(path), "send", "sample", "--to", "Editor Desk <Editor@Example.NET>"]
    )
    assert result.exit_code == 0, result.output
    assert [to for to, _ in sink.messages] == ["Editor@example.net"]
    result = CliRunner().invoke(
        main, ["--config", str(path), "send", "sample", "--to", "Editor Desk <editor>"]
    )
    assert result.exit_code == 2
    assert result.output.strip() == "error: --to: 'Editor Desk <editor>' is not an email address"


def get(url: str) -> tuple[int, str, Any]:
    """Status, body and headers of a GET, errors included."""
    try:
        with urllib.request.urlopen(url) as response:
            return int(response.status), response.read().decode(), response.headers
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, refused.read().decode(), refused.headers


def test_the_pro_view_page_links_lead_to_the_public_edition(tmp_path: Path) -> None:
    """The page was written for its folder: without a base, its relative links (the
    archive, a picture) resolved against /view and led nowhere."""
    made = edition()
    readers = [Subscriber(email="pro@example.net", tier="pro", briefings=("sample",))]
    loaded = setup(tmp_path, 25, readers, method="outbox", made=made)
    public = "https://briefings.example.org"
    store = Store(loaded.settings.database)
    with unsubscribe.running(
        store, SECRET.encode(), private=loaded.settings.private, base_url=public
    ) as base:
        link = deliver.view_url(base, SECRET.encode(), "pro@example.net", made, days=9)
        status, page, _ = get(link)
    store.close()
    assert status == 200
    assert page.count("<base ") == 1
    assert f'<base href="{public}/sample/{made.edition}/">' in page
    assert page.index("<base ") < page.index("</head>") < page.index("<a ")  # in the head


def test_an_industry_reader_views_the_page_of_their_own_picks(tmp_path: Path) -> None:
    """ "View in browser" shows what the reader's email shows: their industries only."""
    made = edition()
    readers = [
        Subscriber(
            email="bank@example.net", tier="pro", briefings=("sample",), industries=("banking",)
        ),
        Subscriber(email="all@example.net", tier="pro", briefings=("sample",)),
    ]
    loaded = setup(
        tmp_path,
        25,
        readers,
        method="outbox",
        made=made,
        briefing=INDUSTRY + "max_stories = 2\n",
        layout="industry",
    )
    store = Store(loaded.settings.database)
    secret = SECRET.encode()
    with unsubscribe.running(
        store,
        secret,
        private=loaded.settings.private,
        pages=lambda b, e, reader: pipeline.pro_page(loaded, b, e, reader.industries),
    ) as base:
        pages = {
            who: get(deliver.view_url(base, secret, who, made, days=9))
            for who in ("bank@example.net", "all@example.net")
        }
        missing = get(
            deliver.view_url(
                base, secret, "bank@example.net", replace(made, edition="2026-01-01-0000"), days=9
            )
        )
    store.close()
    headlines = {n: title for n, (title, _, _) in enumerate(STORIES)}

    def shown(page: str) -> set[int]:
        return {n for n, title in headlines.items() if escape(title) in page}

    assert pages["bank@example.net"][0] == 200
    assert shown(pages["bank@example.net"][1]) == {2, 8}  # as in their email
    written = (loaded.settings.private / "sample" / made.edition / "index.pro.html").read_text()
    assert shown(pages["all@example.net"][1]) == shown(written)  # the page the build wrote
    assert shown(written) > {2, 8}
    assert missing[0] == 404


def test_a_pro_reader_views_the_pro_edition_through_serve_and_a_forged_link_sees_nothing(
    tmp_path: Path,
) -> None:
    from dataclasses import replace
    from urllib.parse import parse_qs, urlencode, urlsplit

    made = edition()
    pro_story = made.stories[4]  # the energy section is PRO
    hidden = pro_story.summary
    readers = [
        Subscriber(email="pro@example.net", tier="pro", briefings=("sample",)),
        Subscriber(email="free@example.net", briefings=("sample",)),
    ]
    loaded = setup(tmp_path, 25, readers, method="outbox", made=made)
    assert send(loaded).sent == 2
    got = {}
    for path in loaded.delivery.outbox.glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        got[str(message["To"])] = message
    pro_html = got["pro@example.net"].get_body(("html",)).get_content()
    pro_text = got["pro@example.net"].get_body(("plain",)).get_content()
    free_html = got["free@example.net"].get_body(("html",)).get_content()
    prefix = f"{loaded.delivery.base_url}/view?"
    [link] = {line.split(": ", 1)[1] for line in pro_text.splitlines() if prefix in line}
    assert link.replace("&", "&amp;") in pro_html  # "View in browser" in the HTML part too
    assert prefix not in free_html and "index.pro.html" not in free_html + pro_html
    assert not list(loaded.settings.output.rglob("*.pro.*"))

    store = Store(loaded.settings.database)
    secret = SECRET.encode()
    with unsubscribe.running(store, secret, private=loaded.settings.private) as base:
        here = base + link.removeprefix(loaded.delivery.base_url)
        status, page, headers = get(here)
        assert status == 200
        assert hidden in " ".join(page.split())  # the PRO story in full
        assert "Upgrade to PRO" not in page
        assert headers["Referrer-Policy"] == "no-referrer"
        assert "no-store" in headers["Cache-Control"]
        assert "preferences.invalid" not in page and "/preferences?e=pro%40example.net" in page

        query = {k: v[0] for k, v in parse_qs(urlsplit(here).query).items()}

        def changed(**values: str) -> str:
            return f"{base}/view?{urlencode({**query, **values})}"

        expired = deliver.view_url(base, secret, "pro@example.net", made, days=-1)
        other = deliver.view_url(
            base, secret, "pro@example.net", replace(made, edition="2026-11-23-1200"), days=90
        )
        free_link = deliver.view_url(base, secret, "free@example.net", made, days=90)
        traversal = deliver.view_url(
            base, secret, "pro@example.net", replace(made, briefing="../sample"), days=90
        )
        refused = {
            "no token": (changed(t=""), 403),
            "forged token": (changed(t="A" * 24), 403),
            "signed by another secret": (
                deliver.view_url(
                    base, b"another-secret-entirely", "pro@example.net", made, days=90
                ),
                403,
            ),
            "another reader": (changed(e="free@example.net"), 403),
            "a later expiry": (changed(x=str(int(query["x"]) + 86400)), 403),
            "another edition": (changed(d="2026-11-21-1200"), 403),
            "expired": (expired, 403),
            "a free reader's own": (free_link, 403),
            "an edition never built": (other, 404),
            "a path out of the folder": (traversal, 403),
            "no query": (f"{base}/view", 403),
        }
        for why, (url, expected) in refused.items():
            status, page, _ = get(url)
            assert status == expected, why
            assert hidden not in " ".join(page.split()) and pro_story.title not in page, why
        store.set_preferences("pro@example.net", briefings=(), industries=(), now=NOW)
        status, page, _ = get(here)  # unsubscribed from everything: no longer a reader
        assert status == 403 and hidden not in page
    store.close()


def test_an_editors_test_message_opens_its_pro_page(tmp_path: Path) -> None:
    """``send --to`` sends a test as a PRO reader, but its "View in browser" answered 403
    unless the address was a PRO subscriber. Its link is signed as a test's now; a
    reader's link cannot be turned into one, nor one into a reader's."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    made = edition()
    hidden = made.stories[4].summary  # the energy section is PRO
    loaded = setup(tmp_path, 25, people(1), method="outbox", made=made)
    assert send(loaded, to="editor@example.org").sent == 1
    [path] = loaded.delivery.outbox.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    prefix = f"{loaded.delivery.base_url}/view?"
    [link] = [
        line.split(": ", 1)[1]
        for line in message.get_body(("plain",)).get_content().splitlines()
        if prefix in line
    ]
    store = Store(loaded.settings.database)
    secret = SECRET.encode()
    with unsubscribe.running(store, secret, private=loaded.settings.private) as base:
        here = base + link.removeprefix(loaded.delivery.base_url)
        status, page, _ = get(here)
        assert status == 200 and hidden in " ".join(page.split())
        query = {k: v[0] for k, v in parse_qs(urlsplit(here).query).items()}
        assert query["k"] == "test"
        untested = {k: v for k, v in query.items() if k != "k"}
        reader = deliver.view_url(base, secret, "reader0@example.net", made, days=90)
        for url in (
            f"{base}/view?{urlencode(untested)}",  # a test's token is not a reader's
            reader + "&k=test",  # nor a (free) reader's a test's
            f"{base}/view?{urlencode({**query, 'e': 'other@example.org'})}",
        ):
            status, page, _ = get(url)
            assert status == 403 and hidden not in " ".join(page.split()), url
    store.close()


def test_the_serve_command_answers_a_pro_view_link(tmp_path: Path) -> None:
    """``briefings serve`` as it is run, in its own process: the signed link from a sent
    message opens the PRO page; the same link with another edition opens nothing."""
    made = edition()
    reader = Subscriber(email="pro@example.net", tier="pro", briefings=("sample",))
    loaded = setup(tmp_path, 25, [reader], method="outbox", made=made)
    assert send(loaded).sent == 1
    [path] = loaded.delivery.outbox.glob("*.eml")
    text = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    prefix = f"{loaded.delivery.base_url}/view?"
    [link] = [
        line.split(": ", 1)[1]
        for line in text.get_body(("plain",)).get_content().splitlines()
        if prefix in line
    ]
    command = [sys.executable, "-m", "briefings.cli", "--config", str(loaded.path), "serve"]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", "0"],
        env={**os.environ, "BRIEFINGS_SECRET": SECRET, "COLUMNS": "200"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
        base = line.split(" at ", 1)[1].strip().rstrip("/")
        assert base.startswith("http://127.0.0.1:"), line
        status, page, _ = get(base + link.removeprefix(loaded.delivery.base_url))
        assert status == 200 and made.stories[4].summary in " ".join(page.split())
        other = link.replace(f"d={made.edition}", "d=2026-11-21-1200")
        status, page, _ = get(base + other.removeprefix(loaded.delivery.base_url))
        assert status == 403 and made.stories[4].title not in page
    finally:
        server.terminate()
        server.communicate(timeout=10)  # closes its stderr pipe


def test_the_pages_forms_and_links_stay_under_a_base_url_with_a_path(tmp_path: Path) -> None:
    """Behind a web server at https://example.org/news, the links are .../news/unsubscribe;
    the pages' forms posted to /unsubscribe and /preferences at the site's root instead."""
    from urllib.parse import urljoin

    store = Store(f"sqlite:///{tmp_path}/b.db")
    store.save_subscribers([Subscriber(email="reader@example.net", briefings=("sample",))], now=NOW)
    secret = SECRET.encode()
    public = "https://example.org/news"
    with unsubscribe.running(store, secret) as base:
        link = deliver.unsubscribe_url(base, secret, "reader@example.net", "sample")
        as_sent = deliver.unsubscribe_url(public, secret, "reader@example.net", "sample")
        for page_link, sent_link in (
            (link, as_sent),
            (
                link.replace("/unsubscribe?", "/preferences?"),
                as_sent.replace("/unsubscribe?", "/preferences?"),
            ),
        ):
            status, page, _ = get(page_link)
            assert status == 200
            targets = re.findall(r'(?:action|href)="([^"]+)"', page)
            assert targets
            for target in targets:
                resolved = urljoin(sent_link, target.replace("&amp;", "&"))
                assert resolved.startswith(public + "/"), (target, resolved)
    store.close()
