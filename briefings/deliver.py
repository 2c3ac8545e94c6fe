"""Messages and senders: one MIME message per subscriber and edition, over SMTP or into
an outbox folder.

Unsubscribe and preference links carry a token, an HMAC over the subscriber's
address and the briefing, keyed by ``BRIEFINGS_SECRET``: nobody can unsubscribe
someone else. A PRO reader's "View in browser" link carries another, over the
address, briefing, edition and the link's expiry: the PRO web edition is never
public, and ``briefings serve`` shows it only for such a link. Headers are built
from values that cannot carry a line break.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import os
import re
import secrets
import smtplib
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.header import Header
from email.utils import format_datetime, parseaddr
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from .config import Briefing, Delivery
from .errors import BriefingsError
from .model import Edition, Subscriber
from .text import base64_lines, mime_body, quoted_printable

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

UNSUBSCRIBE = "https://unsubscribe.invalid/__unsubscribe__"
PREFERENCES = "https://preferences.invalid/__preferences__"
VIEW = "https://view.invalid/__view__"
"""Placeholders rendered into every email and replaced per subscriber (``VIEW``, the PRO
web edition, is in PRO renderings only)."""


class DeliveryError(BriefingsError):
    """Sending cannot start: no secret, no server, a bad DKIM key."""


class NotSent(DeliveryError):
    """A message never reached the server: no connection, no login, no signature.

    Its subscriber may safely be tried again by a later run.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What became of one message."""

    status: str  # "sent" or "failed"
    error: str = ""


class Sender(Protocol):
    """Delivers prepared messages; one instance serves a whole edition."""

    def open(self) -> None:
        """Be ready to send: connected and logged in; raises :class:`NotSent` if not."""

    def send(self, message: Prepared) -> Outcome:
        """Deliver one message; raises :class:`NotSent` when it never left."""

    def close(self) -> None: ...


def secret_from_environment() -> bytes:
    """``BRIEFINGS_SECRET``, which signs every unsubscribe link."""
    value = os.environ.get("BRIEFINGS_SECRET", "")
    if len(value) < 16:
        raise DeliveryError(
            "BRIEFINGS_SECRET must be set to at least 16 characters: it signs "
            "the unsubscribe links (e.g. export BRIEFINGS_SECRET=$(openssl rand "
            "-hex 32))"
        )
    return value.encode()


def token(secret: bytes, email: str, briefing: str) -> str:
    """The signature of (subscriber, briefing) that unsubscribe links carry."""
    digest = hmac.new(secret, f"{email.lower()}\n{briefing}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def verify(secret: bytes, email: str, briefing: str, presented: str) -> bool:
    """Whether ``presented`` is the token of this subscriber and briefing."""
    return hmac.compare_digest(token(secret, email, briefing), presented)


def view_token(
    secret: bytes, email: str, briefing: str, edition: str, expires: int, *, test: bool = False
) -> str:
    """The signature of a PRO reader's link to one edition's PRO web page, until
    ``expires`` (Unix seconds). Its message has five lines, an unsubscribe token's two,
    so neither can stand for the other. A ``test`` link (``send --to``) is signed apart:
    it opens the page without its address being a PRO subscriber's."""
    kind = "view-test" if test else "view"
    text = f"{kind}\n{email.lower()}\n{briefing}\n{edition}\n{expires}"
    digest = hmac.new(secret, text.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def verify_view(
    secret: bytes,
    email: str,
    briefing: str,
    edition: str,
    expires: int,
    presented: str,
    *,
    test: bool = False,
) -> bool:
    """Whether ``presented`` is the view token of this reader, edition and expiry."""
    return hmac.compare_digest(
        view_token(secret, email, briefing, edition, expires, test=test), presented
    )


def view_url(
    base_url: str, secret: bytes, email: str, edition: Edition, *, days: int, test: bool = False
) -> str:
    """A PRO reader's own link to the PRO web page of ``edition``, which ``briefings serve``
    answers for ``days`` after the edition was built; ``test`` for an editor's test
    message, whose address need not be a PRO subscriber's."""
    expires = int((edition.generated_at + timedelta(days=days)).timestamp())
    signed = view_token(secret, email, edition.briefing, edition.edition, expires, test=test)
    fields: dict[str, str | int] = {
        "e": email,
        "b": edition.briefing,
        "d": edition.edition,
        "x": expires,
        "t": signed,
    }
    if test:
        fields["k"] = "test"
    return f"{base_url}/view?{urlencode(fields)}"


def unsubscribe_url(base_url: str, secret: bytes, email: str, briefing: str) -> str:
    """The https unsubscribe link of one subscriber and briefing."""
    query = urlencode({"e": email, "b": briefing, "t": token(secret, email, briefing)})
    return f"{base_url}/unsubscribe?{query}"


def subject(briefing: Briefing, edition: Edition, timezone: str) -> str:
    """The subject line from the briefing's template, on one line."""
    local = edition.generated_at.astimezone(ZoneInfo(timezone))
    line = briefing.subject.format(title=briefing.title, date=local, count=len(edition.stories))
    return " ".join(line.split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepared:
    """One message, ready for the wire: CRLF line ends, bodies quoted-printable."""

    recipient: str
    sender: str
    message_id: str
    data: bytes


def message(
    *,
    edition: Edition,
    briefing: Briefing,
    subscriber: Subscriber,
    html: str,
    text: str,
    delivery: Delivery,
    secret: bytes,
    timezone: str,
    now: datetime,
    test: bool = False,
) -> Prepared:
    """One subscriber's ``multipart/alternative`` message for one edition; ``test`` for an
    editor's test message, which gets a Message-ID of its own.

    Header values are collapsed to one line, non-ASCII ones RFC 2047 encoded, and
    anything else that could break a line is refused. The two bodies are encoded
    directly (:func:`text.mime_body`: quoted-printable, or base64 when shorter): the email
    package's encoder costs more than sending.
    """
    _, sender_address = parseaddr(delivery.sender)
    domain = sender_address.rpartition("@")[2]
    personal = unsubscribe_url(delivery.base_url, secret, subscriber.email, briefing.id)
    preferences = personal.replace("/unsubscribe?", "/preferences?", 1)
    mailto = f"mailto:unsubscribe@{domain}?subject=unsubscribe%20{briefing.id}%20" + (
        token(secret, subscriber.email, briefing.id)
    )
    identifier = message_id(edition, subscriber.email, domain, test=test)
    boundary = f"=_briefings_{hashlib.sha256(identifier.encode()).hexdigest()[:24]}"
    sender_name, _ = parseaddr(delivery.sender)
    lines = [
        ("From", _mailbox("From", sender_name, sender_address)),
        ("To", _mailbox("To", subscriber.name, subscriber.email)),
        ("Subject", _encoded(subject(briefing, edition, timezone))),
        ("Date", format_datetime(now)),
        ("Message-ID", identifier),
        ("List-Id", f"{_phrase(briefing.title, 'List-Id')} <{briefing.id}.{domain}>"),
        ("List-Unsubscribe", f"<{mailto}>,\r\n <{personal}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        # no out-of-office reply from each subscriber to the From address (RFC 3834, and
        # the older convention Exchange and vacation programs still read)
        ("Auto-Submitted", "auto-generated"),
        ("Precedence", "bulk"),
        ("MIME-Version", "1.0"),
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
    ]
    for name, value in lines:
        if _UNSAFE.search(value.replace("\r\n ", "")):
            raise DeliveryError(f"{subscriber.email}: unusable characters in {name}: {value!r}")
    headers = "".join(f"{name}: {value}\r\n" for name, value in lines).encode() + b"\r\n"
    if subscriber.tier == "pro":
        web = view_url(
            delivery.base_url,
            secret,
            subscriber.email,
            edition,
            days=delivery.view_days,
            test=test,
        )
    else:  # a free body never holds the placeholder; the public page if one ever did
        web = f"{delivery.base_url}/{edition.briefing}/{edition.edition}/index.html"
    links = {UNSUBSCRIBE: personal, PREFERENCES: preferences, VIEW: web}
    parts = b"".join(
        b"--"
        + boundary.encode()
        + b"\r\nContent-Type: text/"
        + kind
        + b'; charset="utf-8"\r\nContent-Transfer-Encoding: '
        + b"\r\n\r\n".join(_personal(body, links, html=kind == b"html"))
        + b"\r\n"
        for kind, body in ((b"plain", text), (b"html", html))
    )
    return Prepared(
        recipient=subscriber.email,
        sender=sender_address,
        message_id=identifier,
        data=headers + parts + b"--" + boundary.encode() + b"--\r\n",
    )


_UNSAFE = re.compile(r"[^\x20-\x7e]")
"""What a header line may not hold once its folds are undone: no control, no non-ASCII."""
_LINKS = re.compile(f"({re.escape(UNSUBSCRIBE)}|{re.escape(PREFERENCES)}|{re.escape(VIEW)})")


def _one_line(text: str) -> str:
    return " ".join(text.split())


_SPECIALS = re.compile(r'[][\\()<>@,:;".]')


_LONG_PHRASE = 60
"""Characters beyond which an ASCII display name is folded as encoded words too."""


def _mailbox(header: str, name: str, address: str) -> str:
    """``name <address>`` with the name as :func:`_phrase` makes it; the address alone when
    there is no name."""
    phrase = _phrase(name, header)
    return f"{phrase} <{address}>" if phrase else address


def _phrase(text: str, header: str) -> str:
    """A display name (RFC 5322 phrase) on one line: RFC 2047 encoded words when it is not
    ASCII, a quoted string when it holds specials (``<`` in a title would end the name).

    Encoded words are at most 75 characters, folded onto lines of their own; a long ASCII
    name is encoded and folded the same way. ``formataddr`` made one encoded word of any
    length: a 40-character Hebrew name gave 112 characters, a long one passed 998.
    """
    line = _one_line(text)
    if not line.isascii() or len(line) > _LONG_PHRASE:
        return Header(line, "utf-8", header_name=header).encode(linesep="\r\n", maxlinelen=75)
    if _SPECIALS.search(line):
        return '"' + line.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return line


@functools.lru_cache(maxsize=256)
def _encoded(text: str) -> str:
    """A Subject as ASCII: RFC 2047 encoded words when it is not ASCII already.

    ``maxlinelen=75``: at 76 the email package makes 76-character words on continuation
    lines, one more than RFC 2047 allows."""
    if text.isascii():
        return text
    return Header(text, "utf-8", header_name="Subject").encode(linesep="\r\n", maxlinelen=75)


@functools.lru_cache(maxsize=64)
def _segments(body: str) -> tuple[bytes | str, ...]:
    """A body quoted-printable encoded around its link placeholders, which stay as str.

    Encoding a 50 kB body costs more than sending it, and only the links differ from
    one subscriber to the next, so each distinct body is encoded once.
    """
    pieces = _LINKS.split(body)
    return tuple(
        piece if n % 2 else _open_ended(_quoted(piece))
        for n, piece in enumerate(pieces)
        if piece or n % 2
    )


def _open_ended(encoded: bytes) -> bytes:
    """Quoted-printable text whose last line leaves room for a soft line break's ``=``."""
    head, _, last = encoded.rpartition(b"\r\n")
    if len(last) < 76:
        return encoded
    cut = 75
    if last[cut - 1 : cut] == b"=":
        cut -= 1
    elif last[cut - 2 : cut - 1] == b"=":
        cut -= 2
    split = last[:cut] + b"=\r\n" + last[cut:]
    return head + b"\r\n" + split if head or encoded.startswith(b"\r\n") else split


@functools.lru_cache(maxsize=64)
def _in_base64(body: str) -> bool:
    """Whether ``body`` goes as base64 (:func:`text.mime_body`): mostly letters that are not
    ASCII, which quoted-printable would triple."""
    return mime_body(body)[0] == "base64"


def _personal(body: str, links: Mapping[str, str], *, html: bool) -> tuple[bytes, bytes]:
    """The Content-Transfer-Encoding and the encoded body with one subscriber's links in
    place of the placeholders."""
    if not _in_base64(body):
        return b"quoted-printable", _quoted_personal(body, links, html=html)
    personal = _LINKS.sub(lambda found: escape(links[found[0]]) if html else links[found[0]], body)
    return b"base64", base64_lines(personal)


def _quoted_personal(body: str, links: Mapping[str, str], *, html: bool) -> bytes:
    """The encoded body with one subscriber's links in place of the placeholders.

    Each link is encoded on lines of its own, between soft line breaks, so no line
    grows past the 76 characters quoted-printable allows.
    """
    out = []
    for segment in _segments(body):
        if isinstance(segment, bytes):
            out.append(segment)
        else:
            link = escape(links[segment]) if html else links[segment]
            out.append(b"=\r\n" + _open_ended(_quoted(link)) + b"=\r\n")
    return b"".join(out)


_quoted = quoted_printable


def message_id(edition: Edition, email: str, domain: str, *, test: bool = False) -> str:
    """The same Message-ID for the same edition and subscriber, however often it is tried:
    receivers that see it twice can tell.

    A ``test`` message gets a new one each time: Gmail shows one message per Message-ID,
    so a test to an address that also subscribes would hide the edition itself, or the
    next test.
    """
    who = hashlib.sha256(email.lower().encode()).hexdigest()[:16]
    if test:
        who = f"test.{secrets.token_hex(8)}.{who}"
    return f"<{edition.briefing}.{edition.edition}.{who}@{domain}>"


class OutboxSender:
    """Writes each message as an ``.eml`` file, whole or not at all."""

    def __init__(self, folder: Path, *, dkim: Mapping[str, bytes] | None = None) -> None:
        self.folder = folder
        self.dkim = dkim
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeliveryError(f"{folder}: cannot create the outbox: {exc.strerror}") from None

    def open(self) -> None:
        pass

    def send(self, message: Prepared) -> Outcome:
        name = message.message_id.strip("<>").replace("@", "_at_").replace("/", "_")
        path = self.folder / f"{name}.eml"
        temporary = path.with_name(f".{path.name}.tmp")
        data = _signed(message.data, self.dkim)
        try:
            temporary.write_bytes(data)
            temporary.replace(path)
        except OSError as exc:
            return Outcome(status="failed", error=f"{path}: {exc.strerror}")
        return Outcome(status="sent")

    def close(self) -> None:
        pass


class SmtpSender:
    """One SMTP connection for many messages, at most ``rate`` a second.

    A temporary (4xx) reply is retried with backoff; a permanent (5xx) one fails
    that message only.
    """

    def __init__(
        self,
        delivery: Delivery,
        *,
        retries: int = 3,
        backoff: float = 1.0,
        dkim: Mapping[str, bytes] | None = None,
    ) -> None:
        self.delivery = delivery
        self.retries = retries
        self.backoff = backoff
        self.interval = 1.0 / delivery.rate
        self.last = 0.0
        self.dkim = dkim
        self.client: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        d = self.delivery
        try:
            if d.smtp_security == "tls":
                client: smtplib.SMTP = _TlsClient(
                    d.smtp_host, d.smtp_port, timeout=30, context=ssl.create_default_context()
                )
            else:
                client = _Client(d.smtp_host, d.smtp_port, timeout=30)
                if d.smtp_security == "starttls":
                    try:
                        client.starttls(context=ssl.create_default_context())
                    except BaseException:
                        client.close()  # connected, but of no use
                        raise
        except (OSError, smtplib.SMTPException) as exc:
            reason = _tls_hint(exc) or _reason(exc)
            raise NotSent(f"smtp://{d.smtp_host}:{d.smtp_port}: {reason}") from None
        try:
            user = os.environ.get("BRIEFINGS_SMTP_USER")
            if user:
                client.login(user, os.environ.get("BRIEFINGS_SMTP_PASSWORD", ""))
        except (OSError, smtplib.SMTPException) as exc:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                client.close()
            raise NotSent(
                f"smtp://{d.smtp_host}:{d.smtp_port}: authentication failed: {_reason(exc)}"
            ) from None
        return client

    def open(self) -> None:
        if self.client is None:
            self.client = self._connect()

    def send(self, message: Prepared) -> Outcome:
        wait = self.last + self.interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.last = time.monotonic()
        data = _signed(message.data, self.dkim)
        recipient, sender = message.recipient, message.sender
        reply: bytes | str
        for attempt in range(self.retries + 1):
            self.open()
            assert self.client is not None
            try:
                refused = self.client.sendmail(sender, [recipient], data)
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = exc.recipients.get(recipient, (550, b"refused"))
            except smtplib.SMTPResponseException as exc:
                code, reply = exc.smtp_code, exc.smtp_error
            except smtplib.SMTPServerDisconnected:
                self.client = None
                code, reply = 421, b"server disconnected"
            else:
                if not refused:
                    return Outcome(status="sent")
                code, reply = refused[recipient]
            text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
            if code < 500 and attempt < self.retries:
                time.sleep(self.backoff * 2**attempt)
                if self.client is not None:
                    try:
                        self.client.rset()
                    except smtplib.SMTPException:
                        self.client = None
                continue
            return Outcome(status="failed", error=f"{code} {' '.join(text.split())}")
        return Outcome(status="failed", error="no attempt left")

    def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.client.quit()
            self.client = None


def _tls_hint(exc: BaseException) -> str:
    """What to set when ``smtp_security`` does not fit the server, which a newcomer's first
    relay (one on this machine, without TLS) never does by default; else ``""``."""
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return (
            'the server offers no STARTTLS: set delivery.smtp_security = "none" for a server '
            'without TLS (on this machine or a network you trust), or "tls" for one that '
            "starts with TLS (usually port 465)"
        )
    if isinstance(exc, ssl.SSLError) and exc.reason == "WRONG_VERSION_NUMBER":
        return (
            'the server does not start with TLS: set delivery.smtp_security = "starttls" '
            '(usually port 587), or "none" for a server without TLS'
        )
    return ""


def _reason(exc: BaseException) -> str:
    """One readable line for a failed connection or login: the server's reply, or the
    system's reason."""
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{exc.smtp_code} {' '.join(text.split())}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot connect: {exc.strerror}"
    return f"cannot connect: {' '.join(str(exc).split()) or type(exc).__name__}"


def _data(client: smtplib.SMTP, msg: bytes) -> tuple[int, bytes]:
    """SMTP DATA for a message with CRLF line ends, dot-stuffed with ``bytes.replace``.

    smtplib stuffs with a multi-line regular expression, which costs more than sending
    a 100 kB message over loopback.
    """
    client.putcmd("data")
    code, reply = client.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    stuffed = (b"." if msg.startswith(b".") else b"") + msg.replace(b"\r\n.", b"\r\n..")
    if not stuffed.endswith(b"\r\n"):
        stuffed += b"\r\n"
    client.send(stuffed + b".\r\n")
    return client.getreply()


class _Client(smtplib.SMTP):
    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        return _data(self, msg.encode("ascii") if isinstance(msg, str) else bytes(msg))


class _TlsClient(smtplib.SMTP_SSL):
    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        return _data(self, msg.encode("ascii") if isinstance(msg, str) else bytes(msg))


def dkim_settings(delivery: Delivery) -> dict[str, bytes] | None:
    """What DKIM signing needs, from the key file named in ``[delivery]``; None without one."""
    if delivery.dkim_key is None:
        return None
    try:
        key = delivery.dkim_key.read_bytes()
    except OSError as exc:
        raise DeliveryError(
            f"{delivery.dkim_key}: cannot read the DKIM key: {exc.strerror}"
        ) from None
    import dkim

    try:  # a key that cannot sign fails here, before any subscriber is tried
        dkim.sign(b"From: a@b\r\n\r\n", b"s", b"b", key, include_headers=[b"from"])
    except (dkim.DKIMException, ValueError, IndexError):
        raise DeliveryError(
            f"delivery.dkim_key: not a valid private key ({delivery.dkim_key})"
        ) from None
    domain = parseaddr(delivery.sender)[1].rpartition("@")[2]
    return {"selector": delivery.dkim_selector.encode(), "domain": domain.encode(), "privkey": key}


def _signed(data: bytes, dkim_args: Mapping[str, bytes] | None) -> bytes:
    if not dkim_args:
        return data
    import dkim

    try:
        signature: bytes = dkim.sign(
            data,
            dkim_args["selector"],
            dkim_args["domain"],
            dkim_args["privkey"],
            include_headers=[
                b"from",
                b"to",
                b"subject",
                b"date",
                b"message-id",
                b"list-id",
                b"list-unsubscribe",
                b"list-unsubscribe-post",
            ],
        )
    except (dkim.DKIMException, ValueError) as exc:
        raise NotSent(f"delivery.dkim_key: cannot sign: {' '.join(str(exc).split())}") from None
    return signature + data
