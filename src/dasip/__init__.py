"""dasip: differentiable architecture search for inverse problems."""

from . import resolvers  # noqa: F401  (the configs' ${dasip.*} resolvers)

__version__ = "0.1.0"


def load_model(run_dir):
    """The trained network of a finished run, ready for ``model(y)``, with its genotype and
    config: :func:`dasip.trial.load_model` (imported on first use, so ``import dasip`` stays
    light)."""
    from .trial import load_model as load

    return load(run_dir)


__all__ = ["load_model"]
