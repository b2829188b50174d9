"""Quarantine: the rejects file of a parse, and the share of rejects past which the day fails."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from typing import Any

from airflow_provider_vobiz.cdr.normalize import Normalizer
from airflow_provider_vobiz.lake.ingest.errors import RejectThresholdError


class RejectFile:
    """``rejects.jsonl``: one ``{"reason", "record"}`` object per line, written as records are rejected."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self._fh: Any = None

    def __call__(self, record: dict[str, Any], reason: str) -> None:
        if self._fh is None:
            self._fh = open(self.path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._fh.write(json.dumps({"reason": reason, "record": record}, default=str, sort_keys=True) + "\n")
        self.count += 1

    def close(self) -> str | None:
        if self._fh is not None:
            self._fh.close()
        return self.path if self.count else None


def normalizer_factory(
    tmp: str, account_id: str, plausible_starts: tuple[dt.datetime, dt.datetime] | None
) -> Callable[[], Normalizer]:
    """A maker of normalisers, each with a fresh count and rejects file (an export restarted by a retry is
    parsed again).

    :param tmp: where the rejects files go (``rejects-1.jsonl``, ``rejects-2.jsonl``, ...).
    :param plausible_starts: see :class:`Normalizer`.
    """
    attempts: list[RejectFile] = []

    def make_normalizer() -> Normalizer:
        attempts.append(RejectFile(os.path.join(tmp, f"rejects-{len(attempts) + 1}.jsonl")))
        return Normalizer(account_id, on_reject=attempts[-1], plausible_starts=plausible_starts)

    return make_normalizer


def check_rejects(normalizer: Normalizer, max_reject_ratio: float, what: str) -> None:
    """Fail when the rejected share of the records read exceeds ``max_reject_ratio``.

    A few bad records are quarantined and the day goes on; many mean the feed itself is wrong (a format
    change, a broken export), and publishing the rest would hide it.
    """
    read, rejected = normalizer.records_read, normalizer.rejected
    if not rejected or rejected <= max_reject_ratio * read:
        return
    counts = sorted(normalizer.reject_reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    reasons = ", ".join(f"{k}: {n}" for k, n in counts)
    raise RejectThresholdError(
        f"{rejected} of {read} records ({rejected / max(read, 1):.2%}) for {what} were rejected, over "
        f"max_reject_ratio {max_reject_ratio:g} ({int(max_reject_ratio * read)} allowed); by field: {reasons}. "
        "Nothing was published. If the feed is right and these records are expected, raise max_reject_ratio."
    )
