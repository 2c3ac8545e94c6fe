"""Every file of an edition: :func:`render` makes the web page, email and text for free and
PRO readers and both ``edition.json`` documents, as :class:`Rendered` (public and private)."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from ..model import Edition
from .editions_json import edition_json
from .email import _email
from .template_context import Layout, context
from .templates import _template

TIERS = ("free", "pro")
PUBLIC_FILES = ("index.html", "email.html", "email.txt", "edition.json")
PRIVATE_FILES = ("index.pro.html", "email.pro.html", "email.pro.txt", "edition.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """The files of one edition, as text, keyed by file name: ``public`` for the output
    folder (:data:`PUBLIC_FILES`), ``private`` for the private one (:data:`PRIVATE_FILES`)."""

    public: dict[str, str]
    private: dict[str, str]

    @property
    def files(self) -> dict[str, str]:
        """Every rendering by file name; ``edition.json`` is the whole one."""
        return {**self.public, **self.private}


def render(
    edition: Edition, *, env: jinja2.Environment, timezone: str, layout: Layout = Layout()
) -> Rendered:
    """Every file of the edition: web page, email and text, free (public) and PRO (private),
    and its ``edition.json``, public (PRO stories as teasers) and whole (private)."""
    files: dict[str, dict[str, str]] = {}
    for tier in TIERS:
        suffix = "" if tier == "free" else ".pro"
        values = context(edition, timezone=timezone, layout=layout, tier=tier)
        made = files[tier] = {f"index{suffix}.html": _template(env, "web.html", values)}
        html, text = _email(edition, env, timezone, layout, tier, values)
        made[f"email{suffix}.html"], made[f"email{suffix}.txt"] = html, text
    files["free"]["edition.json"] = edition_json(edition, layout=layout)
    files["pro"]["edition.json"] = edition_json(edition)
    return Rendered(public=files["free"], private=files["pro"])
