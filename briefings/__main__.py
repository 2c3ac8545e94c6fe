"""``python -m briefings``: the ``briefings`` command, as the console script runs it."""

from .cli import main

if __name__ == "__main__":
    main()
