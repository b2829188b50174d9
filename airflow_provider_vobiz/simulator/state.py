"""The simulator's mutable state, shared by the app and its controller: clock, faults, request log, data."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .config import SimulatorConfig
from .data import Dataset, Filters
from .faults import MODIFIERS, Fault


@dataclass
class SimState:
    """Mutable state shared by the app and its controller: clock, faults, request log, the dataset."""

    config: SimulatorConfig
    dataset: Dataset = field(init=False)
    now: datetime = field(init=False)
    faults: list[Fault] = field(default_factory=list)
    log: deque = field(default_factory=lambda: deque(maxlen=200_000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.dataset = Dataset(self.config)
        self.now = self.config.effective_now

    @property
    def now_epoch(self) -> int:
        return int(self.now.timestamp())

    def set_now(self, now: datetime | None) -> None:
        if now is not None and now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        self.now = (now or self.config.effective_now).astimezone(timezone.utc)

    def add_fault(self, **kw: Any) -> Fault:
        f = Fault(**kw)
        with self.lock:
            self.faults.append(f)
        return f

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def take_faults(self, endpoint: str, page: int | None) -> list[Fault]:
        """The faults that apply to this request (all matching ``slow``/``undercount``, then the first
        status/drop/truncate)."""
        chosen: list[Fault] = []
        with self.lock:
            terminal = False
            for f in list(self.faults):
                if not f.matches(endpoint, page) or (f.kind not in MODIFIERS and terminal):
                    continue
                chosen.append(f)
                terminal = terminal or f.kind not in MODIFIERS
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
        return chosen

    def records(self, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
        lo = int(start.timestamp()) if start else None
        hi = int(end.timestamp()) if end else None
        sel = self.dataset.select(Filters(lo=lo, hi=hi), self.now_epoch)
        return self.dataset.dicts(sel.days, sel.rows, self.now_epoch)
