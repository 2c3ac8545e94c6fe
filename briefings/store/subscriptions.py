"""Subscribers and what each receives: imports, preferences, unsubscribing."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from ..model import Subscriber
from .base import StoreBase
from .rows import _subscriber
from .schema import subscribers

_FIELDS = ("name", "tier", "briefings", "industries", "status")


class Subscriptions(StoreBase):
    """Subscribers by address, their tier, briefings, industries and status."""

    def save_subscribers(
        self,
        found: Sequence[Subscriber],
        *,
        now: datetime,
        given: Mapping[str, Collection[str]] | None = None,
    ) -> tuple[int, int]:
        """Add new subscribers and update known ones (by address); (added, updated). A known
        subscriber the source changes nothing of is left alone and counts in neither.

        ``given`` names, per lowercased address, the fields the source gave (name,
        tier, briefings, industries, status); a known subscriber keeps the others.
        Without it every field is given. A known subscriber's status only ever moves
        away from active, and briefings they unsubscribed from are not added back: an
        import never resubscribes anyone.
        """
        added = updated = 0
        with self.engine.begin() as conn:
            for item in found:
                key = item.email.lower()
                fields = set(_FIELDS if given is None else given.get(key, _FIELDS))
                row = conn.execute(
                    select(subscribers).where(subscribers.c.email_key == key)
                ).first()
                if row is None:
                    left = set(item.left)
                    conn.execute(
                        insert(subscribers).values(
                            email_key=key,
                            email=item.email,
                            name=item.name,
                            tier=item.tier,
                            briefings=";".join(b for b in item.briefings if b not in left),
                            industries=";".join(item.industries),
                            status=item.status,
                            unsubscribed_from=";".join(item.left),
                            updated_at=now,
                        )
                    )
                    added += 1
                    continue
                left = {b for b in row.unsubscribed_from.split(";") if b} | set(item.left)
                values: dict[str, Any] = {"email": item.email, "updated_at": now}
                if "name" in fields:
                    values["name"] = item.name
                if "tier" in fields:
                    values["tier"] = item.tier
                if "briefings" in fields:
                    values["briefings"] = ";".join(b for b in item.briefings if b not in left)
                if "industries" in fields:
                    values["industries"] = ";".join(item.industries)
                if "status" in fields and item.status != "active" and row.status == "active":
                    values["status"] = item.status
                values["unsubscribed_from"] = ";".join(sorted(left))
                if all(getattr(row, k) == v for k, v in values.items() if k != "updated_at"):
                    continue  # the same again: an import run twice changes nothing
                conn.execute(
                    update(subscribers).where(subscribers.c.email_key == key).values(**values)
                )
                updated += 1
        return added, updated

    def remove_subscriber(self, email: str) -> bool:
        """Forget a subscriber entirely; False if there was none."""
        with self.engine.begin() as conn:
            gone = conn.execute(
                subscribers.delete().where(subscribers.c.email_key == email.strip().lower())
            ).rowcount
        return bool(gone)

    def set_status(self, email: str, status: str, *, now: datetime) -> bool:
        """Mark a subscriber active, unsubscribed or bounced; False if there was none."""
        with self.engine.begin() as conn:
            found = conn.execute(
                update(subscribers)
                .where(subscribers.c.email_key == email.strip().lower())
                .values(status=status, updated_at=now)
            ).rowcount
        return bool(found)

    def list_subscribers(
        self, *, briefing: str | None = None, status: str | None = None
    ) -> list[Subscriber]:
        """Subscribers in address order, of one briefing or status when given."""
        query = select(subscribers).order_by(subscribers.c.email_key)
        if status is not None:
            query = query.where(subscribers.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [_subscriber(r) for r in rows]
        return [s for s in found if briefing is None or briefing in s.briefings]

    def subscriber(self, email: str) -> Subscriber | None:
        """One subscriber by address (any case), or None."""
        query = select(subscribers).where(subscribers.c.email_key == email.strip().lower())
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return _subscriber(row) if row else None

    def set_preferences(
        self,
        email: str,
        *,
        briefings: Sequence[str],
        industries: Sequence[str],
        now: datetime,
    ) -> bool:
        """Replace what a subscriber receives; False if there is none.

        No briefing left means unsubscribed; choosing some again reactivates an
        unsubscribed reader (never a bounced one).
        """
        key = email.strip().lower()
        with self.engine.begin() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.email_key == key)).first()
            if row is None:
                return False
            status = row.status
            if not briefings:
                status = "unsubscribed" if status == "active" else status
            elif status == "unsubscribed":
                status = "active"
            left = {b for b in row.unsubscribed_from.split(";") if b}
            dropped = {b for b in row.briefings.split(";") if b} - set(briefings)
            conn.execute(
                update(subscribers)
                .where(subscribers.c.email_key == key)
                .values(
                    briefings=";".join(briefings),
                    unsubscribed_from=";".join(sorted((left | dropped) - set(briefings))),
                    industries=";".join(industries),
                    status=status,
                    updated_at=now,
                )
            )
        return True

    def unsubscribe(self, email: str, briefing: str, *, now: datetime) -> bool:
        """Take ``briefing`` off a subscriber's list (all of them: unsubscribed)."""
        key = email.strip().lower()
        with self.engine.begin() as conn:
            row = conn.execute(select(subscribers).where(subscribers.c.email_key == key)).first()
            if row is None:
                return False
            kept = [b for b in row.briefings.split(";") if b and b != briefing]
            left = {b for b in row.unsubscribed_from.split(";") if b} | {briefing}
            conn.execute(
                update(subscribers)
                .where(subscribers.c.email_key == key)
                .values(
                    briefings=";".join(kept),
                    unsubscribed_from=";".join(sorted(left)),
                    status=row.status if kept else "unsubscribed",
                    updated_at=now,
                )
            )
        return True
