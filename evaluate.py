"""``python evaluate.py [overrides]``: see README.md. A shim for ``dasip-evaluate`` (the app is
:mod:`dasip.entry.evaluate`; configs live in src/dasip/conf/)."""

from dasip.entry.evaluate import main

if __name__ == "__main__":
    main()
