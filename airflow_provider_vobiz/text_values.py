"""Values that arrive as text (a Variable, a connection extra, a rendered template) read as their type.

Dependency-free, so the API client (``hooks``) reads its extras the same way the settings do without importing
:mod:`airflow_provider_vobiz.settings` (which imports Airflow and the lake). Settings re-exports these names.
"""

from __future__ import annotations

from typing import Any

#: The one reading of a flag written as text.
TRUE_TEXTS = frozenset({"1", "true", "yes", "on"})
FALSE_TEXTS = frozenset({"", "0", "false", "no", "off", "none"})


def as_bool(value: Any, name: str = "flag") -> bool:
    """A flag from a bool, a number or text (``1/true/yes/on``, ``0/false/no/off/none`` or blank).

    :param value: the value; Jinja renders a boolean param as ``True`` / ``False``, which reads as expected.
    :param name: what the value is, for the error.
    :raises ValueError: text that is neither true nor false, so a typo is not silently taken either way.
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int | float):
        return bool(value)
    text = str(value).strip().lower()
    if text in TRUE_TEXTS:
        return True
    if text in FALSE_TEXTS:
        return False
    raise ValueError(f"{name}: {value!r} is neither true ({'/'.join(sorted(TRUE_TEXTS))}) nor false")


def as_int(value: Any, name: str) -> int:
    """An integer from an int or its text (a rendered template gives ``"30"``).

    :param value: the value.
    :param name: what the value is, for the error.
    :raises ValueError: a value that is not an integer.
    """
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None


def int_or_none(value: Any) -> int | None:
    """An integer from an int or its text, or None when it is none (a JSON document's optional figure).

    A bool is not taken for 0/1: a ``true`` where a count belongs is a broken document, not a count.
    """
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
