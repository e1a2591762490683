"""Methods and spaces behind their interfaces: every registered method satisfies
:class:`dasip.methods.Method` and every registered space :class:`dasip.spaces.Space`, by name and
by signature."""

import inspect
import types

import pytest

from dasip import methods, spaces
from dasip.methods import METHODS, Method, register
from dasip.spaces import SPACES, Space


def _protocol_methods(protocol: type) -> list[str]:
    return [
        name
        for name, value in vars(protocol).items()
        if inspect.isfunction(value) and not name.startswith("_")
    ]


def _parameters(fn) -> list[str]:
    """The parameter names of ``fn`` as a caller sees them (no ``self``)."""
    return [p for p in inspect.signature(fn).parameters if p != "self"]


def _satisfies(obj, protocol: type) -> None:
    assert isinstance(obj, protocol), f"{obj!r} is not a {protocol.__name__}"
    for name in _protocol_methods(protocol):
        wanted = _parameters(getattr(protocol, name))
        got = _parameters(getattr(obj, name))
        assert got == wanted, f"{obj!r}.{name}{tuple(got)}: {protocol.__name__} wants {wanted}"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_registered_method_is_a_method(name):
    module = next(
        m
        for m in vars(methods).values()
        if isinstance(m, types.ModuleType) and getattr(m, "run", None) is METHODS[name].run
    )
    _satisfies(module, Method)
    _satisfies(METHODS[name], Method)


def test_registering_something_that_is_not_a_method_fails():
    with pytest.raises(TypeError, match=r"needs run\(ctx\) and phases\(cfg\)"):
        register(types.SimpleNamespace(run=lambda ctx: None))


@pytest.mark.parametrize("name", sorted(SPACES))
def test_every_registered_space_is_a_space(name):
    space = spaces.build_space(name)
    _satisfies(space, Space)
    assert space.name == name
