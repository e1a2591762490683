"""dasip: differentiable architecture search for inverse problems."""

__version__ = "0.1.0"
