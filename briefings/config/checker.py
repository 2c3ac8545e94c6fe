"""How problems are collected: :class:`_Checker` notes each with its key path and goes on,
checking a table's keys against their declared types and defaults.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .keys import REQUIRED, Key


class _Checker:
    """Collects problems with their key paths instead of stopping at the first."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[str] = []

    def add(self, key: str, message: str) -> None:
        if not key.isprintable():  # a key of control characters would break the line
            key = key.encode("unicode_escape").decode("ascii")
        self.problems.append(f"{self.filename}: {key}: {' '.join(message.split())}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def unknown_keys(self, table: Mapping[str, Any], spec: Mapping[str, Any], prefix: str) -> None:
        for key in table:
            if key not in spec:
                where = f"{prefix}{key}"
                self.add(where, f"unknown key{_hint(key, spec)}")

    def typed(
        self, table: Mapping[str, Any], spec: Mapping[str, Key], prefix: str
    ) -> dict[str, Any]:
        """The table's values with defaults filled in; wrong types and missing keys reported."""
        self.unknown_keys(table, spec, prefix)
        values: dict[str, Any] = {}
        for name, key in spec.items():
            if name not in table:
                if key.default is REQUIRED:
                    self.add(f"{prefix}{name}", "required key is missing")
                    values[name] = _placeholder(key)
                else:
                    values[name] = key.default
                continue
            value = table[name]
            if (isinstance(value, bool) and key.type is not bool) or not isinstance(
                value, key.type
            ):
                self.add(
                    f"{prefix}{name}",
                    f"expected {_type_name(key.type)}, got {type(value).__name__} {value!r}",
                )
                values[name] = _placeholder(key) if key.default is REQUIRED else key.default
                continue
            if isinstance(value, str) and "\x00" in value:
                # no file name, address or text of a setting holds one; paths would raise
                self.add(f"{prefix}{name}", "contains a NUL character (\\u0000)")
                values[name] = _placeholder(key) if key.default is REQUIRED else key.default
                continue
            values[name] = value
        return values

    def table(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.add(where, f"expected a table, got {type(value).__name__}")
            return {}
        return value

    def strings(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            return ()
        good = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                good.append(item.strip())
            else:
                self.add(f"{where}[{index}]", f"expected a non-empty string, got {item!r}")
        return tuple(good)


def _placeholder(key: Key) -> Any:
    """An empty value of a required key's type, so that checking goes on after a problem."""
    kind = key.type[0] if isinstance(key.type, tuple) else key.type
    return kind()


def _hint(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "an array",
        bool: "true or false",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
