"""The ``[settings]`` and ``[delivery]`` tables → :class:`Settings` and :class:`Delivery`,
paths resolved, and the check that private material stays out of the public output.
"""

from __future__ import annotations

import email.utils
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .checker import _Checker
from .keys import DELIVERY, SETTINGS
from .tables import (
    Delivery,
    Settings,
)
from .values import _absolute_url, _base_url, _choice, _unknown_zone, parse_duration


def _kept_private(checker: _Checker, settings: Settings, delivery: Delivery) -> None:
    """PRO material stays out of ``settings.output``, which may be served to anyone: the
    private folder, the outbox of sent messages and a SQLite store may not be inside it
    (nor the output inside the private folder, where a briefing's folder could be it)."""
    output = settings.output.resolve()
    private = settings.private.resolve()
    if private == output or output in private.parents:
        checker.add(
            "settings.private",
            f"{settings.private} is inside settings.output ({settings.output}), which may be "
            "served to anyone; choose a folder outside it",
        )
    elif private in output.parents:
        checker.add(
            "settings.private",
            f"{settings.private} holds settings.output ({settings.output}); choose two "
            "separate folders",
        )
    places = [("delivery.outbox", delivery.outbox)]
    if settings.database.startswith("sqlite:///") and settings.database != "sqlite:///:memory:":
        places.append(("settings.database", Path(settings.database[len("sqlite:///") :])))
    for key, place in places:
        resolved = place.resolve()
        if resolved == output or output in resolved.parents:
            checker.add(
                key,
                f"{place} is inside settings.output ({settings.output}), which may be served "
                "to anyone; choose a place outside it",
            )


def _settings(checker: _Checker, raw: Any, root: Path) -> Settings:
    values = checker.typed(checker.table(raw, "settings"), SETTINGS, "settings.")
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        checker.add("settings.timezone", _unknown_zone(values["timezone"], "Europe/Istanbul"))
        values["timezone"] = "UTC"
    for name in ("retries", "host_delay", "lock_wait", "processes", "extract_below"):
        if values[name] < 0:
            checker.add(f"settings.{name}", f"must not be negative, got {values[name]!r}")
            values[name] = SETTINGS[name].default
    for name in ("timeout", "concurrency", "max_bytes", "max_items"):
        if values[name] <= 0:
            checker.add(f"settings.{name}", f"must be greater than zero, got {values[name]!r}")
            values[name] = SETTINGS[name].default
    if not values["private"].strip():
        checker.add("settings.private", "must not be empty (the default is 'private')")
    templates = values["templates"]
    if templates and not (root / templates).is_dir():
        checker.add("settings.templates", f"{root / templates}: no such folder")
        templates = ""
    return Settings(
        database=_database_url(values["database"], root),
        output=root / values["output"],
        private=root / (values["private"] or SETTINGS["private"].default),
        timezone=values["timezone"],
        templates=(root / templates) if templates else None,
        base_url=_base_url(checker, values["base_url"], "settings.base_url"),
        upgrade_url=_absolute_url(
            checker, values["upgrade_url"], "settings.upgrade_url", mail=True
        ),
        user_agent=values["user_agent"],
        timeout=float(values["timeout"]),
        concurrency=values["concurrency"],
        max_bytes=values["max_bytes"],
        extract_below=values["extract_below"],
        processes=values["processes"],
        retries=values["retries"],
        host_delay=float(values["host_delay"]),
        allow_private_networks=values["allow_private_networks"],
        fetch_interval=_positive_duration(checker, values, "fetch_interval", "settings."),
        misfire_grace=_positive_duration(checker, values, "misfire_grace", "settings."),
        max_items=values["max_items"],
        lock_wait=float(values["lock_wait"]),
        retention=(
            None
            if values["retention"].strip() == "forever"
            else _positive_duration(checker, values, "retention", "settings.")
        ),
    )


def _positive_duration(
    checker: _Checker, values: dict[str, Any], name: str, prefix: str
) -> timedelta:
    """A duration key, checked to be greater than zero; its default when it is not."""
    try:
        value = parse_duration(values[name])
    except ValueError as exc:
        checker.add(prefix + name, str(exc))
    else:
        if value > timedelta(0):
            return value
        checker.add(prefix + name, "must be greater than zero")
    return parse_duration(SETTINGS[name].default)


def _delivery(checker: _Checker, raw: Any, root: Path, base_url: str) -> Delivery:
    values = checker.typed(checker.table(raw, "delivery"), DELIVERY, "delivery.")
    _, address = email.utils.parseaddr(values["from"])
    if "@" not in address or any(c in values["from"] for c in "\r\n"):
        checker.add(
            "delivery.from", f"bad address {values['from']!r} (use 'Name <user@example.org>')"
        )
    method = _choice(checker, values["method"], ("outbox", "smtp"), "delivery.method")
    security = _choice(
        checker, values["smtp_security"], ("starttls", "tls", "none"), "delivery.smtp_security"
    )
    if values["rate"] <= 0:
        checker.add("delivery.rate", "must be greater than zero")
    if not 1 <= values["smtp_port"] <= 65535:
        checker.add("delivery.smtp_port", f"must be 1 to 65535, got {values['smtp_port']!r}")
        values["smtp_port"] = DELIVERY["smtp_port"].default
    if values["connections"] < 1:
        checker.add("delivery.connections", f"must be at least 1, got {values['connections']!r}")
    if not 1 <= values["view_days"] <= 3650:
        checker.add("delivery.view_days", f"must be 1 to 3650, got {values['view_days']!r}")
        values["view_days"] = DELIVERY["view_days"].default
    return Delivery(
        sender=values["from"],
        method=method,
        outbox=root / values["outbox"],
        smtp_host=values["smtp_host"],
        smtp_port=values["smtp_port"],
        smtp_security=security,
        rate=float(values["rate"]) if values["rate"] > 0 else 20.0,
        connections=max(1, values["connections"]),
        base_url=_base_url(checker, values["base_url"], "delivery.base_url") or base_url,
        dkim_key=(root / values["dkim_key"]) if values["dkim_key"] else None,
        dkim_selector=values["dkim_selector"],
        view_days=values["view_days"],
    )


def _database_url(url: str, root: Path) -> str:
    """A SQLAlchemy URL; a bare path (no ``://``) is a SQLite file, relative to ``root``."""
    prefix = "sqlite:///"
    if "://" not in url and url.strip():
        return prefix + str(root / url)
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/") and url != prefix:
        return prefix + str(root / url[len(prefix) :])
    return url
