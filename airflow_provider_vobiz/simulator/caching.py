"""Cached-only mode: an answer that needs no computing is given on the event loop, the rest on a thread."""

from __future__ import annotations

import threading


class Cold(Exception):
    """Raised in cached-only mode when an answer needs computing (the caller moves to a worker thread)."""


_local = threading.local()


def need(what: str) -> None:
    """Called before computing ``what``: raises :class:`Cold` in cached-only mode."""
    if getattr(_local, "cached_only", False):
        raise Cold(what)


class cached_only:  # noqa: N801 - used as a context manager like a function
    """Within this block (on this thread), answer only from caches; raise :class:`Cold` otherwise."""

    def __enter__(self) -> None:
        _local.cached_only = True

    def __exit__(self, *exc: object) -> None:
        _local.cached_only = False
