"""HTTP only: every request ends as a :class:`Fetched`; see :mod:`.transport`."""

from .transport import ACCEPT_ENCODING as ACCEPT_ENCODING
from .transport import FEED_ACCEPT as FEED_ACCEPT
from .transport import PAGE_ACCEPT as PAGE_ACCEPT
from .transport import FetchOptions as FetchOptions
from .transport import Request as Request
from .transport import Transport as Transport
from .transport import _connect_reason as _connect_reason
from .transport import body_hash as body_hash
from .transport import fetch_all as fetch_all
from .transport import fetch_each as fetch_each
