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


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_method_is_given_its_keys_as_its_schema(name, tmp_path):
    """``ctx.method_conf`` is the method's own schema object (``method/base_<name>``), with the
    option's values, typed: what ``run`` reads instead of the raw config."""
    from dataclasses import fields

    from dasip import schema as S
    from dasip.trial import TrialContext

    from .conftest import compose_cfg

    overrides = {"fixed": ["arch=grad*10"], "ground_truth": ["space.n_layers=2", "ops=good"]}
    cfg = compose_cfg(overrides=[f"method={name}", *overrides.get(name, [])])
    ctx = TrialContext(cfg, tmp_path)
    conf = ctx.method_conf
    assert type(conf) is S.schema_for("method", cfg.method) is S.schema_of(cfg.method)
    assert type(conf).__name__.endswith("Conf") and conf.name == name
    for f in fields(conf):
        value = getattr(conf, f.name)
        assert not hasattr(value, "_get_node"), f"method.{f.name} is still an OmegaConf node"
        assert value == cfg.method[f.name] or list(value) == list(cfg.method[f.name])
