"""Config schemas: each config group option's keys as a dataclass, registered in Hydra's
ConfigStore and named in the option's YAML ``defaults`` (Hydra's structured config schema).

A schema's field types are enforced by OmegaConf when the config is composed (``data.n=abc``
fails there); each field's range or choices (:func:`key`) and the constraints between fields
(:meth:`Schema.check`) run when :func:`validate` builds the schema object at start-up. Either
way the user sees one line, ``key=value is not allowed; allowed: ...``: :class:`ConfigError`.
The schemas live next to the code that reads their keys (the data module's in
:mod:`dasip.data`, the operators' in :mod:`dasip.physics`, ...); this module is the lowest
layer they share and imports nothing of dasip but :mod:`dasip.checks`.
"""

from __future__ import annotations

import math
import re
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from . import checks


class ConfigError(ValueError):
    """A config value that cannot work; raised before any training starts."""


class SchemaError(ConfigError):
    """A schema's field (or fields) that break their rule. The message names the keys relative
    to the schema, each after ``{p}``; :func:`validate` puts the block's path there."""

    def at(self, prefix: str) -> ConfigError:
        return ConfigError(self.args[0].replace("{p}", prefix))

    def __str__(self) -> str:
        return self.args[0].replace("{p}", "")


def show(v: Any) -> str:
    if OmegaConf.is_config(v):
        v = OmegaConf.to_container(v)
    return repr(v)


# -- rules: what a field allows beyond its type ------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A field's range or choices: ``ok(value)``, and ``allowed`` for the message."""

    ok: Callable[[Any], bool]
    allowed: str


def or_null(rule: Rule, nullable: bool = True) -> Rule:
    """``rule``, or ``None`` too when ``nullable``."""
    if not nullable:
        return rule
    return Rule(lambda v: v is None or rule.ok(v), rule.allowed + ", or null")


def integer(
    min: int | None = None, max: int | None = None, odd: bool = False, nullable: bool = False
) -> Rule:
    """An integer ``>= min``, ``<= max`` (odd if ``odd``): :func:`dasip.checks.integer`."""

    def ok(v: Any) -> bool:
        try:
            checks.integer("", v, min, odd, max)
        except ValueError:
            return False
        return True

    try:
        checks.integer("", None, min, odd, max)
    except ValueError as e:
        allowed = str(e).rsplit("allowed: ", 1)[1]
    return or_null(Rule(ok, allowed), nullable)


def number(
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    nullable: bool = False,
) -> Rule:
    """A finite number, ``> gt``, ``>= ge``, ``< lt``."""

    def ok(v: Any) -> bool:
        return (
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and math.isfinite(v)
            and (gt is None or v > gt)
            and (ge is None or v >= ge)
            and (lt is None or v < lt)
        )

    allowed = (
        "a finite number"
        + (f" > {gt}" if gt is not None else "")
        + (f" >= {ge}" if ge is not None else "")
        + (f" and < {lt}" if lt is not None else "")
    )
    return or_null(Rule(ok, allowed), nullable)


def choice(*allowed: Any, nullable: bool = False) -> Rule:
    def ok(v: Any) -> bool:
        return not isinstance(v, bool) and v in allowed

    return or_null(Rule(ok, ", ".join(map(str, allowed))), nullable)


def text(nullable: bool = False) -> Rule:
    """A non-empty string."""
    return or_null(Rule(lambda v: isinstance(v, str) and v != "", "a non-empty string"), nullable)


def names(allowed: Sequence[str], min_len: int = 1) -> Rule:
    """A list of at least ``min_len`` distinct names of ``allowed``."""

    def ok(v: Any) -> bool:
        return (
            isinstance(v, (list, tuple, ListConfig))
            and len(v) >= min_len
            and all(item in allowed for item in v)
            and len(set(v)) == len(v)
        )

    return Rule(ok, f"a list of at least {min_len} distinct names of {', '.join(allowed)}")


def _is_arch(v: Any) -> bool:
    if isinstance(v, (list, tuple, ListConfig)):
        return bool(v) and all(isinstance(s, str) for s in v)
    return isinstance(v, str) and v != ""


#: an architecture: a genotype string or a list of op names, parsed by the space when built
ARCH = Rule(_is_arch, "an architecture such as grad*10 or grad-net*9, or a list of op names")


def key(default: Any = MISSING, rule: Rule | None = None, *, factory: Any = None) -> Any:
    """A schema field: its default (``factory`` for a list or a nested schema) and its rule."""
    meta = {"rule": rule} if rule is not None else {}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


# -- schemas -----------------------------------------------------------------------------------
class Schema:
    """Base of every schema dataclass: on construction (:func:`OmegaConf.to_object` at start-up,
    or a direct call) each field's rule, then :meth:`check`, the constraints between fields."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            rule = f.metadata.get("rule")
            value = getattr(self, f.name)
            if rule is not None and not rule.ok(value):
                raise SchemaError(
                    f"{{p}}{f.name}={show(value)} is not allowed; allowed: {rule.allowed}"
                )
        self.check()

    def check(self) -> None:
        """Constraints between fields; raise :class:`SchemaError` (keys after ``{p}``)."""


#: the schemas of each group, in the order they were stored
_STORED: dict[str, list[type]] = {}


def store(group: str, name: str, node: type) -> type:
    """Register ``node`` as the schema ``group/name``; a YAML option of ``group`` names it
    first in its ``defaults``."""
    ConfigStore.instance().store(group=group, name=name, node=node)
    _STORED.setdefault(group, []).append(node)
    return node


def stored(group: str) -> list[str]:
    """The names the schemas of ``group`` are stored under (``base_signals``, ...)."""
    repo = ConfigStore.instance().repo
    for part in group.split("/"):
        repo = repo.get(part, {})
    return sorted(name[: -len(".yaml")] for name in repo if name.endswith(".yaml"))


def _default(schema: type, name: str) -> Any:
    return next((f.default for f in fields(schema) if f.name == name), None)


def schema_for(group: str, block: Any) -> type | None:
    """The schema of a plain config block of ``group`` (a saved config, which has lost its
    types): the group's only schema, else the one whose ``_target_`` or ``name`` matches."""
    options = _STORED.get(group, [])
    if len(options) == 1:
        return options[0]
    for discriminator in ("_target_", "name"):
        value = block.get(discriminator) if isinstance(block, DictConfig) else None
        matches = [s for s in options if _default(s, discriminator) == value]
        if value is not None and len(matches) == 1:
            return matches[0]
    return None


def typed(group: str, block: DictConfig) -> DictConfig:
    """``block`` with its schema's types (:func:`schema_for`), nested blocks with a schema
    group of their own (``data/operator``) too; unchanged when no schema matches."""
    schema = schema_for(group, block)
    if schema is None or schema_of(block) is not None:
        return block
    node = OmegaConf.structured(schema)
    rest = {}
    for k in block:
        child = block._get_node(k)
        if f"{group}/{k}" in _STORED and isinstance(child, DictConfig):
            node[k] = typed(f"{group}/{k}", child)
        else:
            rest[k] = child
    return OmegaConf.merge(node, rest)


def schema_of(node: Any) -> type | None:
    t = OmegaConf.get_type(node) if isinstance(node, DictConfig) else None
    return t if isinstance(t, type) and is_dataclass(t) and issubclass(t, Schema) else None


def validate(node: DictConfig, path: str) -> Any:
    """The schema object of the config block ``node`` at ``path`` (e.g. ``data``): keys the
    schema does not have, every field's type, rule and the schema's :meth:`~Schema.check`.
    Nested schemas first, so a message names the innermost key. Raises :class:`ConfigError`."""
    prefix = f"{path}." if path else ""  # "": the config's top level
    for k in node:
        child = node._get_node(k)
        if isinstance(child, DictConfig) and schema_of(child) is not None:
            validate(child, f"{prefix}{k}")
    schema = schema_of(node)
    if schema is None:
        return None
    known = [f.name for f in fields(schema)]
    for k in node:
        if k not in known:
            raise ConfigError(
                f"{prefix}{k} is not a known key; allowed: {', '.join(map(str, known))}"
            )
    try:
        return OmegaConf.to_object(node)
    except SchemaError as e:
        raise e.at(prefix) from None
    except OmegaConfBaseException as e:
        raise compose_error(e) or ConfigError(f"{path or 'config'}: {_first_line(e)}") from None


# -- errors of OmegaConf and Hydra as one line --------------------------------------------------
def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def allowed_for(schema: Any, name: str) -> str | None:
    """What field ``name`` of ``schema`` allows, in words: its rule, else its type."""
    if not (isinstance(schema, type) and is_dataclass(schema)):
        return None
    found = [f for f in fields(schema) if f.name == name]
    if not found:
        return None
    rule = found[0].metadata.get("rule")
    if rule is not None:
        return rule.allowed
    hint = typing.get_type_hints(schema).get(name)
    if typing.get_origin(hint) is list:
        item = typing.get_args(hint)[0]
        items = {int: "integers", float: "numbers", str: "strings"}
        return f"a list of {items.get(item, getattr(item, '__name__', str(item)))}"
    nullable = type(None) in typing.get_args(hint)
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    words = {int: "an integer", float: "a number", bool: "true, false", str: "a string"}
    what = words.get(base, getattr(base, "__name__", str(base)))
    return what + (", or null" if nullable else "")


def compose_error(e: BaseException) -> ConfigError | None:
    """The one-line :class:`ConfigError` of a config that failed to compose or validate because
    of a key's value (OmegaConf's ``ValidationError`` naming the key), or ``None`` when the
    error is of another kind (e.g. Hydra's ``Could not find 'data/deblur'``)."""
    cause = e
    while cause is not None and not (
        isinstance(cause, OmegaConfBaseException) and getattr(cause, "full_key", None)
    ):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    full_key = cause.full_key
    schema = getattr(cause, "object_type", None)
    if (
        isinstance(cause, (ConfigKeyError, ConfigAttributeError))
        and isinstance(schema, type)
        and is_dataclass(schema)
    ):
        known = ", ".join(f.name for f in fields(schema))
        return ConfigError(f"{full_key} is not a known key; allowed: {known}")
    override = re.search(r"Error merging override \+*([^=\s]+)=(.*)$", str(e), re.MULTILINE)
    value = override.group(2) if override and override.group(1) == full_key else None
    allowed = allowed_for(getattr(cause, "object_type", None), str(cause.key))
    if value is not None and allowed is not None:
        return ConfigError(f"{full_key}={value} is not allowed; allowed: {allowed}")
    why = _first_line(cause)
    return ConfigError(f"{full_key}: {why}" + (f"; allowed: {allowed}" if allowed else ""))


__all__ = [
    "ARCH",
    "ConfigError",
    "Rule",
    "Schema",
    "SchemaError",
    "choice",
    "compose_error",
    "integer",
    "key",
    "names",
    "number",
    "or_null",
    "schema_for",
    "store",
    "stored",
    "text",
    "typed",
    "validate",
]
