"""``python train.py [overrides]``: see README.md. A shim for ``dasip-train`` (the app is
:mod:`dasip.entry.train`; configs live in src/dasip/conf/)."""

from dasip.entry.train import main

if __name__ == "__main__":
    main()
