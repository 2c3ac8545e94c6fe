"""The editors' standing choices about a briefing's stories and their notes to editions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select

from ..model import Choice
from .base import StoreBase
from .schema import choices, notes


class EditorsChoices(StoreBase):
    """What the editors' desk decided: stories dropped, pinned or ranked, and notes."""

    def choices(self, briefing: str) -> list[Choice]:
        """The editor's standing decisions about the stories of a briefing."""
        query = select(choices).where(choices.c.briefing == briefing)
        with self.engine.connect() as conn:
            return [
                Choice(
                    story_id=row.story_id,
                    urls=tuple(u for u in row.urls.split("\n") if u),
                    dropped=row.dropped,
                    pinned=row.pinned,
                    rank=row.rank,
                    title=row.title,
                )
                for row in conn.execute(query)
            ]

    def save_choices(self, briefing: str, found: Sequence[Choice], *, now: datetime) -> None:
        """Replace the decisions about these stories, in one transaction."""
        with self.engine.begin() as conn:
            for choice in found:
                conn.execute(
                    choices.delete().where(
                        choices.c.briefing == briefing, choices.c.story_id == choice.story_id
                    )
                )
                if choice.dropped or choice.pinned or choice.rank is not None:
                    conn.execute(
                        insert(choices).values(
                            briefing=briefing,
                            story_id=choice.story_id,
                            urls="\n".join(choice.urls),
                            dropped=choice.dropped,
                            pinned=choice.pinned,
                            rank=choice.rank,
                            updated_at=now,
                            title=choice.title,
                        )
                    )

    def note(self, briefing: str, edition: str) -> str | None:
        """The note an editor wrote for one edition, or None."""
        query = select(notes.c.text).where(notes.c.briefing == briefing, notes.c.edition == edition)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else str(row.text)

    def save_note(self, briefing: str, edition: str, note: str, *, now: datetime) -> None:
        """Keep an editor's note for one edition (its builds from now on show it)."""
        with self.engine.begin() as conn:
            conn.execute(
                notes.delete().where(notes.c.briefing == briefing, notes.c.edition == edition)
            )
            conn.execute(
                insert(notes).values(briefing=briefing, edition=edition, text=note, updated_at=now)
            )
