"""``python -m briefings.cli``: the ``briefings`` command, as the console script runs it."""

from . import main

if __name__ == "__main__":
    main()
