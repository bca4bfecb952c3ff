"""A bounded hand-over between a producer thread and the runtime loop.

When the consumer falls behind, the oldest item is dropped and counted: for live sensor data
and controller samples the newest reading is the one that matters, and memory stays bounded
whatever the consumer does. The producer never blocks (a bus thread that blocked on a full
queue would stall the bus and the watchdog would see a hung poller, not a slow consumer).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class DropOldestQueue(Generic[T]):
    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError("maxlen must be >= 1")
        self._items: deque[T] = deque()
        self._maxlen = maxlen
        self._lock = threading.Lock()
        self.dropped = 0
        self.high_water = 0

    def put(self, item: T) -> None:
        with self._lock:
            if len(self._items) >= self._maxlen:
                self._items.popleft()
                self.dropped += 1
            self._items.append(item)
            self.high_water = max(self.high_water, len(self._items))

    def drain(self) -> list[T]:
        """Everything queued, oldest first; the queue is empty afterwards."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
