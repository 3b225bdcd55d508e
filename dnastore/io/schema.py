"""The one place where a value from outside (a command-line option, a config file field) is
checked: a declarative :class:`Field` per setting, and :func:`check` / :func:`check_fields`
that turn a bad value into one :class:`~dnastore.errors.DnastoreError` line naming the
setting, the allowed range and the value given.

Numbers are refused when they are not finite (NaN, infinity), out of range, of the wrong
kind (``true`` for an integer, 2.7 for a count) or too long to be a number at all; sequences
when their length or any item is wrong; names when they are not among the choices; and
unknown keys of a config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from dnastore.errors import DnastoreError


@dataclass(frozen=True)
class Field:
    """What one setting may hold.

    ``kind`` is ``"int"``, ``"float"``, ``"str"``, ``"bool"`` or ``"seq"`` (a list of ``item``
    values, ``length`` long: an int or a (low, high) pair). ``lo``/``hi`` bound numbers (open
    where ``lo_open``/``hi_open``); ``choices`` lists the allowed strings.
    """
    kind: str
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[str, ...] | None = None
    item: "Field | None" = None
    length: int | tuple[int, int] | None = None

    def describe(self) -> str:
        if self.kind in ("int", "float"):
            what = "an integer" if self.kind == "int" else "a finite number"

            def fmt(v: float) -> str:
                return f"{int(v)}" if self.kind == "int" or (float(v).is_integer() and abs(v) < 1e7) else f"{v:g}"
            if self.lo is not None and self.hi is not None:
                return f"{what} in {'(' if self.lo_open else '['}{fmt(self.lo)}, {fmt(self.hi)}{')' if self.hi_open else ']'}"
            if self.lo is not None:
                return f"{what} {'>' if self.lo_open else '>='} {fmt(self.lo)}"
            if self.hi is not None:
                return f"{what} {'<' if self.hi_open else '<='} {fmt(self.hi)}"
            return what
        if self.kind == "str" and self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind == "seq":
            n = self.length
            count = f"{n}" if isinstance(n, int) else (f"{n[0]} to {n[1]}" if n else "any number of")
            return f"a list of {count} values, each {self.item.describe() if self.item else 'any'}"
        return {"bool": "true or false", "str": "a string"}.get(self.kind, self.kind)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check(name: str, value: Any, field: Field) -> Any:
    """``value`` as the setting ``name`` takes it, or a one-line error."""
    def bad() -> DnastoreError:
        return DnastoreError(f"{name} must be {field.describe()}, got {_short(value)}")

    if field.kind in ("int", "float"):
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, str):
            text = value.strip()
            if len(text) > 40:
                raise bad()
            try:
                value = int(text) if field.kind == "int" else float(text)
            except ValueError:
                raise bad() from None
        if isinstance(value, float) and field.kind == "int":
            if not math.isfinite(value) or value != int(value):
                raise bad()
            value = int(value)
        if not isinstance(value, (int, float)):
            raise bad()
        if isinstance(value, int) and abs(value) > 2 ** 63:
            raise bad()
        if field.kind == "float":
            value = float(value)
            if not math.isfinite(value):
                raise bad()
        if field.lo is not None and (value < field.lo or (field.lo_open and value == field.lo)):
            raise bad()
        if field.hi is not None and (value > field.hi or (field.hi_open and value == field.hi)):
            raise bad()
        return value
    if field.kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if field.kind == "str":
        if not isinstance(value, str) or (field.choices is not None and value not in field.choices):
            raise bad()
        return value
    if field.kind == "seq":
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise bad()
        n = field.length
        lo, hi = (n, n) if isinstance(n, int) else (n or (0, 1 << 30))
        if not lo <= len(value) <= hi:
            raise bad()
        if field.item is not None:
            try:
                return tuple(check(name, v, field.item) for v in value)
            except DnastoreError:
                raise bad() from None
        return tuple(value)
    raise ValueError(f"unknown field kind {field.kind!r}")


def check_fields(d: Mapping[str, Any], schema: Mapping[str, Field], where: str,
                 ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every field of a config ``d`` checked against ``schema``; unknown keys refused."""
    if not isinstance(d, Mapping):
        raise DnastoreError(f"{where}: must be a JSON object of settings, got {type(d).__name__}")
    unknown = sorted(k for k in d if k not in schema and k not in ignore)
    if unknown:
        raise DnastoreError(f"{where}: unknown settings {', '.join(map(str, unknown))} "
                            f"(known: {', '.join(sorted(schema))})")
    out = {}
    for k, v in d.items():
        if k in ignore:
            continue
        out[k] = check(f"{where}: {k}", v, schema[k])
    return out


# ---------------------------------------------------------------------------------------------
# the shared fields

SEED = Field("int", 0, 2 ** 32 - 1)
PROBABILITY = Field("float", 0.0, 1.0)
LEARNING_RATE = Field("float", 0.0, 10.0, lo_open=True)
