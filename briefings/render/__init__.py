"""An :class:`Edition` → web page, email and plain text, plus ``edition.json``.

Each edition is rendered twice, for free and for PRO readers, and its files fall in two
sets: the public ones (free renderings, and an ``edition.json`` whose PRO stories are
teasers), which may be served to anyone, and the private ones (PRO renderings, and the
whole ``edition.json`` that sending and the desk read back).

Jinja2 with autoescape and ``StrictUndefined``; every value a template prints
loses its control characters first, and every link to an article must be
http(s) (the stages upstream ensure both; this is the second lock). The email is MJML compiled by
mjml-python, then its CSS is inlined (css-inline) for clients that drop
``<style>``. Templates in ``settings.templates`` override the built-in theme
file by file.

:mod:`.files` makes every file of an edition (:func:`render`, :class:`Rendered`);
:mod:`.templates` holds the Jinja2 environment, loading and one-line template errors;
:mod:`.template_context` what every template receives (:class:`Layout`, :func:`context`,
teasers of PRO stories, right-to-left headlines, contrast); :mod:`.email` compiles the MJML
email and keeps it under :data:`EMAIL_LIMIT`; :mod:`.editions_json` writes ``edition.json``
and reads it back; :mod:`.listings` makes the archive, the Atom feed and the catalogue;
:mod:`.specimens` the made-up edition that ``check`` renders. Every name stays importable
from here.
"""

from ..errors import RenderError as RenderError
from .editions_json import _iso as _iso
from .editions_json import _lead_source as _lead_source
from .editions_json import _story_json as _story_json
from .editions_json import edition_from_json as edition_from_json
from .editions_json import edition_json as edition_json
from .editions_json import is_whole as is_whole
from .email import _INLINE_STYLE as _INLINE_STYLE
from .email import EMAIL_LIMIT as EMAIL_LIMIT
from .email import _compile as _compile
from .email import _email as _email
from .email import sent_size as sent_size
from .files import PRIVATE_FILES as PRIVATE_FILES
from .files import PUBLIC_FILES as PUBLIC_FILES
from .files import TIERS as TIERS
from .files import Rendered as Rendered
from .files import render as render
from .listings import Listed as Listed
from .listings import _atom as _atom
from .listings import archive as archive
from .listings import catalogue as catalogue
from .listings import dated as dated
from .listings import edition_listing as edition_listing
from .specimens import specimen as specimen
from .template_context import _PARAGRAPH_BREAK as _PARAGRAPH_BREAK
from .template_context import DARK_PAPER as DARK_PAPER
from .template_context import ELLIPSIS as ELLIPSIS
from .template_context import MINUTE_MOST as MINUTE_MOST
from .template_context import PREFERENCES_LINK as PREFERENCES_LINK
from .template_context import TEASER_CHARACTERS as TEASER_CHARACTERS
from .template_context import TEASER_SHARE as TEASER_SHARE
from .template_context import TEASER_WORDS as TEASER_WORDS
from .template_context import UNSPACED as UNSPACED
from .template_context import UNSUBSCRIBE_LINK as UNSUBSCRIBE_LINK
from .template_context import VIEW_LINK as VIEW_LINK
from .template_context import Layout as Layout
from .template_context import _archive_url as _archive_url
from .template_context import _edition_url as _edition_url
from .template_context import _joins_previous as _joins_previous
from .template_context import _luminance as _luminance
from .template_context import _other_outlets as _other_outlets
from .template_context import _paragraphs as _paragraphs
from .template_context import _reasons as _reasons
from .template_context import _rgb as _rgb
from .template_context import _sections as _sections
from .template_context import _story as _story
from .template_context import context as context
from .template_context import is_pro as is_pro
from .template_context import readable_on as readable_on
from .template_context import right_to_left as right_to_left
from .template_context import teaser as teaser
from .templates import _BIDI_CONTROLS as _BIDI_CONTROLS
from .templates import TEMPLATE_FILES as TEMPLATE_FILES
from .templates import _folders as _folders
from .templates import _found as _found
from .templates import _printable as _printable
from .templates import _template as _template
from .templates import _unloadable as _unloadable
from .templates import _where as _where
from .templates import builtin_templates as builtin_templates
from .templates import environment as environment
from .templates import load as load
from .templates import plain as plain
from .templates import wrap as wrap
