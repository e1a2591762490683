"""dasip: differentiable architecture search for inverse problems."""

from . import resolvers  # noqa: F401  (the configs' ${dasip.*} resolvers)

__version__ = "0.1.0"
