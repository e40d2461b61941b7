"""Trap events to the inventory: a bounded queue posted in batches to ``POST /api/collector/events/``.

Same pattern as :mod:`collectors.observations`: one long-lived inventory client, a flush every few
seconds or when a batch is full, a failed flush keeps the events for the next one, a refused batch (4xx)
is dropped and counted.  The queue holds at most ``max_pending`` events; beyond, new ones are dropped
and counted (``queue_full``) — the storm limiter keeps that rare.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

import httpx

from collectors.flushing import PeriodicFlush
from collectors.inventory_client import InventoryClient

log = logging.getLogger(__name__)

EVENTS_PATH = "/api/collector/events/"


class TrapEventSender(PeriodicFlush):
    task_name = "trap-events"

    def __init__(
        self,
        client: InventoryClient,
        collector: str,
        *,
        batch_size: int = 500,
        flush_interval: float = 5.0,
        max_pending: int = 50_000,
    ) -> None:
        super().__init__()
        self.client = client
        self.collector = collector
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.max_pending = max_pending
        self._pending: deque[dict[str, Any]] = deque()
        self.sent = 0
        self.failures = 0
        self.dropped: dict[str, int] = {}
        self._last_error_log = 0.0

    def put(self, event: dict[str, Any]) -> None:
        if len(self._pending) >= self.max_pending:
            self.dropped["queue_full"] = self.dropped.get("queue_full", 0) + 1
            return
        self._pending.append(event)
        if len(self._pending) >= self.batch_size:
            self._wakeup.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Post the queued events in batches; on a network failure keep them for the next flush."""
        sent = 0
        while self._pending:
            batch = [self._pending[i] for i in range(min(self.batch_size, len(self._pending)))]
            try:
                response = await self.client.post(
                    EVENTS_PATH, json={"collector": self.collector, "events": batch}
                )
                refused = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
                if not refused:
                    response.raise_for_status()
            except (httpx.HTTPError, OSError) as exc:
                self.failures += 1
                now = time.monotonic()
                if now - self._last_error_log > 300 or not self._last_error_log:
                    self._last_error_log = now
                    log.warning(
                        "trap events to %s failed (%s); %d kept",
                        self.client.url(EVENTS_PATH),
                        self.client.describe(exc),
                        len(self._pending),
                    )
                return sent
            for _ in batch:
                self._pending.popleft()
            if refused:
                self.dropped["refused"] = self.dropped.get("refused", 0) + len(batch)
                log.warning(
                    "trap events refused by the inventory (HTTP %d): %s; %d dropped",
                    response.status_code,
                    response.text[:200],
                    len(batch),
                )
                continue
            sent += len(batch)
            self.sent += len(batch)
        return sent
