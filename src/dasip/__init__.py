"""dasip: differentiable architecture search for inverse problems."""

from pathlib import Path

from . import resolvers  # noqa: F401  (the configs' ${dasip.*} resolvers)

__version__ = "0.1.0"

#: the Hydra configs (``dasip/conf``, shipped as package data): the config groups of the apps
#: in :mod:`dasip.entry`; compose with ``hydra.initialize_config_dir(config_dir=str(CONF_DIR))``
CONF_DIR = Path(__file__).resolve().parent / "conf"


def load_model(run_dir):
    """The trained network of a finished run, ready for ``model(y)``, with its genotype and
    config: :func:`dasip.trial.load_model` (imported on first use, so ``import dasip`` stays
    light)."""
    from .trial import load_model as load

    return load(run_dir)


__all__ = ["CONF_DIR", "load_model"]
