"""``feeds.toml`` → a frozen, validated :class:`Config`.

Every key is declared once (:mod:`.keys`) with its type, default and help; the loader
reports each problem with its key path and, where it can, a hint::

    feeds.toml: briefings.israel.topics[0]: unknown topic 'isreal' (did you mean 'israel'?)

Relative paths resolve against the folder of the configuration file.

:mod:`.loading` reads the file and hands each table to its module: :mod:`.settings`
(``[settings]``, ``[delivery]``), :mod:`.feeds`, :mod:`.topics` and :mod:`.catalogue`
(``[briefings.ID]``, with :mod:`.cron` for schedules), which check values with
:mod:`.checker` and :mod:`.values` and build the dataclasses of :mod:`.tables`.
"""

from .catalogue import FORMATS as FORMATS
from .catalogue import TIERS as TIERS
from .cron import cron_trigger as cron_trigger
from .feeds import default_feed_id as default_feed_id
from .feeds import slug as slug
from .keys import BRIEFING as BRIEFING
from .keys import DELIVERY as DELIVERY
from .keys import FEED as FEED
from .keys import REQUIRED as REQUIRED
from .keys import SECTIONS as SECTIONS
from .keys import SETTINGS as SETTINGS
from .keys import TOPIC as TOPIC
from .keys import Key as Key
from .loading import DEFAULT_PATH as DEFAULT_PATH
from .loading import load as load
from .loading import parse as parse
from .tables import DEFAULT_WINDOW as DEFAULT_WINDOW
from .tables import Briefing as Briefing
from .tables import Config as Config
from .tables import ContextRule as ContextRule
from .tables import Delivery as Delivery
from .tables import Settings as Settings
from .tables import Theme as Theme
from .tables import UserTopic as UserTopic
from .topics import RULE_KEYS as RULE_KEYS
from .topics import builtin_topic_ids as builtin_topic_ids
from .topics import parse_rule as parse_rule
from .values import parse_duration as parse_duration
