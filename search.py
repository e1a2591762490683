"""``python search.py [overrides]``: see README.md. A shim for ``dasip-search`` (the app is
:mod:`dasip.entry.search`; configs live in src/dasip/conf/)."""

from dasip.entry.search import main

if __name__ == "__main__":
    main()
