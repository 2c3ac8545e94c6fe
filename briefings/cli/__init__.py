"""The ``briefings`` command: a thin click skin over :mod:`briefings.pipeline`.

Exit status: 0 when the work was done (even if some feeds failed, which are
listed one per line), 1 for a runtime error (store, template), 2 for an
invalid configuration.

:mod:`.group` holds the ``main`` group and what commands share, :mod:`.console` what they
print and how errors end them; each family of commands has its module (:mod:`.maintenance`,
:mod:`.building`, :mod:`.matching`, :mod:`.subscribers`, :mod:`.sending`, :mod:`.servers`,
:mod:`.scheduling`), and is registered here, in the order ``briefings --help`` has always had.
A command imports what only it needs when it runs, so that ``briefings fetch`` starts fast.
"""

# ruff: noqa: E402
import gc

# The modules a command needs make a few hundred thousand objects, none of them garbage:
# collecting while they are imported only walks them again (a tenth of the imports' time).
# Collection resumes once they are in, with them frozen, so later collections skip them too.
gc.disable()

import atexit

from . import building, maintenance, matching, scheduling, sending, servers, subscribers
from .group import _global_options_after_names
from .group import main as main

gc.freeze()
gc.enable()

# At exit the interpreter's last collections walk every object left, and SQLAlchemy's and
# httpx's modules make hundreds of thousands: 0.07-0.1 s, a tenth of a poll of unchanged
# feeds. Frozen objects are skipped. Nothing then needs collecting: the store is closed and
# output flushed by then, and memory goes back to the system with the process.
atexit.register(gc.freeze)

for _command in (
    maintenance.check,
    building.fetch,
    maintenance.prune,
    building.build,
    building.run,
    building.demo,
    matching.topics,
    matching.stories,
    subscribers.subscribers,
    sending.send,
    servers.serve,
    scheduling.schedule,
    sending.approve,
    servers.preview,
):
    main.add_command(_command)
_global_options_after_names(main)
