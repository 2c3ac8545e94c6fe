"""The Jinja2 environment of the templates: user templates first, then the built-in theme;
what every printed value loses (control characters, bidi controls), the ``wrap`` filter,
and loading and rendering a template with any failure as a one-line :class:`RenderError`."""

from __future__ import annotations

import re
import textwrap
import traceback
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from ..errors import RenderError
from ..text import printable

TEMPLATE_FILES = ("web.html", "email.mjml", "email.txt", "archive.html", "catalogue.html")


def builtin_templates() -> Path:
    """The folder of the built-in theme.

    ``templates/`` at the top of the source tree; a wheel carries it as
    ``briefings/templates/`` (see ``[tool.setuptools.package-dir]``).
    """
    package = Path(__file__).resolve().parent.parent  # briefings/, above briefings/render/
    for folder in (package / "templates", package.parent / "templates"):
        if (folder / "web.html").is_file():
            return folder
    raise RenderError(f"the built-in templates are missing from {package}; reinstall briefings")


def environment(override: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: user templates first, then the built-in theme."""
    folders = [str(override)] if override is not None else []
    folders.append(str(builtin_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(["html", "mjml", "xml"], default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_printable,
    )
    env.filters["wrap"] = wrap
    return env


def _printable(value: Any) -> Any:
    """Every printed string without control characters (XML, so MJML and Atom, cannot hold
    them) and without explicit bidi controls (see :func:`plain`)."""
    if isinstance(value, markupsafe.Markup):
        return markupsafe.Markup(plain(value))
    return plain(value) if isinstance(value, str) else value


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """``text`` as :func:`text.printable` leaves it, also without explicit bidi embeddings,
    overrides and isolates (U+202A–U+202E, U+2066–U+2069).

    A feed's unbalanced U+202E would reverse everything after it on the line: the
    headline, the outlet's name beside it. The templates isolate inserted strings
    themselves (``dir="auto"``, ``<bdi>``).
    """
    return _BIDI_CONTROLS.sub("", printable(text))


def wrap(text: str, width: int = 72, indent: str = "") -> str:
    """Plain text wrapped for people: paragraphs kept, lines at most ``width`` wide."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return "\n\n".join(
        textwrap.fill(
            p,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for p in paragraphs
        if p
    )


def load(env: jinja2.Environment, name: str) -> jinja2.Template:
    """The template ``name``, compiled; a file that cannot be read or compiled is a
    :class:`RenderError` of one line naming the file (and line, for a syntax error)."""
    try:
        return env.get_template(name)
    except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound, UnicodeDecodeError) as exc:
        raise _unloadable(env, name, exc) from None
    except OSError as exc:
        raise RenderError(f"{_found(env, name)}: cannot read: {exc.strerror or exc}") from None


def _unloadable(env: jinja2.Environment, name: str, exc: Exception) -> RenderError:
    """One line for a template (``name``, or one it includes) that cannot be loaded."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return RenderError(f"{exc.filename or name}:{exc.lineno}: {exc.message}")
    if isinstance(exc, jinja2.TemplateNotFound):
        return RenderError(
            f"template not found: {exc.name} (wanted by {name}; looked in "
            f"{', '.join(_folders(env))}); add the file to settings.templates or "
            "remove the reference"
        )
    assert isinstance(exc, UnicodeDecodeError)  # an editor's file saved as Windows-1252
    return RenderError(
        f"{_found(env, name)}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
    )


def _folders(env: jinja2.Environment) -> list[str]:
    return [str(folder) for folder in getattr(env.loader, "searchpath", [])]


def _found(env: jinja2.Environment, name: str) -> str:
    """The file the loader reads for ``name``: the first folder that has it."""
    for folder in _folders(env):
        if (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    return name


def _template(env: jinja2.Environment, name: str, values: dict[str, Any]) -> str:
    template = load(env, name)
    try:
        return template.render(values)
    except RenderError:
        raise
    except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound) as exc:  # an included file
        raise _unloadable(env, name, exc) from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{_where(exc, name)}: {exc.message}") from None
    except RecursionError as exc:  # {% extends "web.html" %} in the editor's own web.html
        where = _where(exc, name).rsplit(":", 1)[0]
        raise RenderError(
            f"{where}: extends, includes or calls itself without end; a file in "
            f"settings.templates replaces the built-in one of its name, so it cannot build "
            "on it: copy the built-in file and change the copy"
        ) from None
    except Exception as exc:  # a template's own runtime error: 1 / 0, a filter given nonsense
        raise RenderError(f"{_where(exc, name)}: {exc}") from None


def _where(exc: BaseException, name: str) -> str:
    """``file:line`` of the template line that raised ``exc`` (Jinja2 puts the template's
    frames into the traceback), or ``name`` alone when none is found."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.endswith(".py") and Path(frame.filename).is_file()
    ]
    if not frames:
        return name
    return f"{frames[-1].filename}:{frames[-1].lineno}"
