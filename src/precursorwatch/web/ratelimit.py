"""Rate limits: 429 with ``Retry-After`` for an address that keeps sending bad keys, and for a
key that sends more requests than the operator allows.

* Failed authentications (an unknown or revoked key, on the API or the sign-in page) are
  counted per client address over ``auth_failures_window_s``; past ``auth_failures_limit``
  every key check from that address is answered 429 until the oldest failure leaves the
  window, a valid key included (else the answer would tell a guessed key from a wrong one).
  A request with no key at all is no guess and is not counted.
* Each API key has a token bucket of ``rate_limit_per_minute`` requests, refilled evenly over
  the minute: bursts up to the whole minute's allowance, then 429 until a token is back.

The counters are this process's (a server with several workers allows each its own); they are
kept bounded (the oldest addresses are dropped past :data:`MAX_TRACKED`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

from precursorwatch.settings import Settings

#: Most client addresses and keys tracked at once.
MAX_TRACKED = 10_000

TOO_MANY_FAILURES = (
    "too many unknown or revoked keys from this address: wait {seconds} s (Retry-After) "
    "before trying again, and check the key"
)
TOO_MANY_REQUESTS = (
    "this key sent more than {limit} requests in a minute (rate_limit_per_minute): wait "
    "{seconds} s (Retry-After), or ask the operator to raise PRECURSORWATCH_RATE_LIMIT_PER_MINUTE"
)


class RateLimits:
    """Failed-authentication and per-key request counters; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.failure_limit = settings.auth_failures_limit
        self.failure_window = float(settings.auth_failures_window_s)
        self.per_minute = settings.rate_limit_per_minute
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    # --- failed authentications per address ---------------------------------------------------

    def auth_blocked(self, address: str) -> int:
        """Seconds until ``address`` may try a key again; 0 when it may now."""
        if self.failure_limit <= 0:
            return 0
        now = time.monotonic()
        with self._lock:
            seen = self._failures.get(address)
            if seen is None:
                return 0
            while seen and seen[0] <= now - self.failure_window:
                seen.popleft()
            if len(seen) < self.failure_limit:
                return 0
            return max(1, math.ceil(seen[-self.failure_limit] + self.failure_window - now))

    def auth_failed(self, address: str) -> None:
        """Count a failed authentication from ``address``."""
        if self.failure_limit <= 0:
            return
        with self._lock:
            seen = self._failures.pop(address, None) or deque(maxlen=self.failure_limit)
            seen.append(time.monotonic())
            self._failures[address] = seen
            while len(self._failures) > MAX_TRACKED:
                self._failures.popitem(last=False)

    # --- requests per key -------------------------------------------------------------------

    def take(self, key_id: str) -> int:
        """Spend one request of key ``key_id``: 0 when allowed, else the seconds to wait."""
        if self.per_minute <= 0:
            return 0
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.pop(key_id, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                wait = 0
            else:
                self._buckets[key_id] = (tokens, now)
                wait = max(1, math.ceil((1.0 - tokens) / rate))
            while len(self._buckets) > MAX_TRACKED:
                self._buckets.popitem(last=False)
        return wait
