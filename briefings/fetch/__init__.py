"""HTTP only: concurrency, politeness, conditional GET, timeouts, size caps,
redirects, retries and address checks.

Nothing here raises for a bad URL: every request ends as a :class:`Fetched`
whose ``status`` is ``"ok"``, ``"not_modified"`` or ``"error"`` with a one-line
reason, so that one bad feed never stops the others.

Bodies are counted as they unpack: a gzip bomb (a few megabytes on the wire,
gigabytes unpacked) is refused once ``max_bytes`` have come out of it, and no
more than that is ever held in memory.

A feed's redirects and its article links are untrusted: a request made with
``allow_private=False`` refuses any hop (the first URL and every redirect), off
its ``trusted_host``, whose host is or resolves to an address that is not public:
private, loopback, link-local, shared (100.64.0.0/10) or otherwise special,
also when wrapped in an IPv6 one. A name is resolved once, when its connection is
made, and the connection goes to the addresses checked, so a DNS answer that
changes in between (rebinding) cannot lead it elsewhere.

The modules: :mod:`.options` (what is asked), :mod:`.pool` (many requests in threads,
politeness), :mod:`.client` (one request, its retries and redirects), :mod:`.bodies`
(reading a response or a file), :mod:`.transport` (connections checked and kept to the
deadline), :mod:`.addresses` (which hosts may be reached) and :mod:`.failures` (a failed
request's reason). Every name is importable from ``briefings.fetch``.
"""

import sys

# httpx imports its command-line client when it can (click, rich and pygments: 40 ms),
# and gives a stub in its place when that import fails. None in sys.modules makes it fail.
# Here, in the package, so that it is done before any of its modules imports httpx.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from .addresses import Refused as Refused  # noqa: E402
from .bodies import ACCEPT_ENCODING as ACCEPT_ENCODING  # noqa: E402
from .bodies import RETRY_STATUSES as RETRY_STATUSES  # noqa: E402
from .bodies import body_hash as body_hash  # noqa: E402
from .client import fetch_one as fetch_one  # noqa: E402
from .failures import MAX_REASON as MAX_REASON  # noqa: E402
from .failures import _connect_reason as _connect_reason  # noqa: E402
from .options import FEED_ACCEPT as FEED_ACCEPT  # noqa: E402
from .options import PAGE_ACCEPT as PAGE_ACCEPT  # noqa: E402
from .options import FetchOptions as FetchOptions  # noqa: E402
from .options import Request as Request  # noqa: E402
from .pool import GROW_AFTER as GROW_AFTER  # noqa: E402
from .pool import fetch_all as fetch_all  # noqa: E402
from .pool import fetch_each as fetch_each  # noqa: E402
from .transport import Resolver as Resolver  # noqa: E402
from .transport import Transport as Transport  # noqa: E402
from .transport import resolve as resolve  # noqa: E402
