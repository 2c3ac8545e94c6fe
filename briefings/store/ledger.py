"""The delivery ledger: what became of each message of an edition, so a send resumed
after a crash never sends one twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text

from .base import StoreBase
from .schema import UTCDateTime, deliveries

_MARK = text(
    "INSERT INTO deliveries (briefing, edition, email_key, status, error, updated_at) "
    "VALUES (:briefing, :edition, :email_key, :status, :error, :updated_at) "
    "ON CONFLICT (briefing, edition, email_key) DO UPDATE SET status = excluded.status, "
    "error = excluded.error, updated_at = excluded.updated_at"
)


PRUNED = "*"
"""The ledger line that stands for the lines of an edition :meth:`Store.prune` forgot."""


class DeliveryLedger(StoreBase):
    """One line per edition and subscriber: sending, sent or failed."""

    def ledger(self, briefing: str, edition: str) -> dict[str, str]:
        """Address (lowercased) → sending, sent or failed, for one edition."""
        query = select(deliveries.c.email_key, deliveries.c.status).where(
            deliveries.c.briefing == briefing, deliveries.c.edition == edition
        )
        with self.engine.connect() as conn:
            return {row.email_key: row.status for row in conn.execute(query)}

    def mark_delivery(
        self,
        briefing: str,
        edition: str,
        email: str,
        status: str,
        *,
        now: datetime,
        error: str = "",
    ) -> None:
        """Record, at once and durably, what became of one message.

        One upsert statement (SQLite 3.24+ and PostgreSQL share its syntax): the ledger is
        written twice per message, so its cost is on the sending path.
        """
        with self.engine.begin() as conn:
            conn.execute(
                _MARK,
                {
                    "briefing": briefing,
                    "edition": edition,
                    "email_key": email.lower(),
                    "status": status,
                    "error": error,
                    "updated_at": UTCDateTime().process_bind_param(now, self.engine.dialect),
                },
            )

    def forget_deliveries(self, briefing: str, edition: str, email: str | None = None) -> int:
        """Clear an edition's ledger (``--resend``), or one subscriber's line of it (a
        message that never left), so that it can be sent again."""
        where = [deliveries.c.briefing == briefing, deliveries.c.edition == edition]
        if email is not None:
            where.append(deliveries.c.email_key == email.lower())
        with self.engine.begin() as conn:
            return int(conn.execute(deliveries.delete().where(*where)).rowcount)
