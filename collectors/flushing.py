"""The background loop every queue that reports to the inventory shares (observations, trap events).

A subclass sets ``flush_interval`` and implements ``flush()``; ``self._wakeup.set()`` flushes early (a full
batch). ``stop()`` ends the loop and tries once more to send what is left.
"""

from __future__ import annotations

import asyncio
import contextlib


class PeriodicFlush:
    flush_interval: float
    task_name = "flush"

    def __init__(self) -> None:
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def flush(self) -> int:
        raise NotImplementedError

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.task_name)

    async def stop(self) -> None:
        """Stop the loop and try once to send what is left."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self.flush_interval)
            self._wakeup.clear()
            await self.flush()
