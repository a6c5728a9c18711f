"""Everything the polite client needs, as one frozen value (built from Config or by hand).

Clock and sleep are injected so time-dependent behaviour (breakers, cool-downs, robots TTL)
is testable without waiting; production uses the monotonic clock and asyncio.sleep.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["DEFAULT_RATES", "ClientSettings"]

# The role defaults of DESIGN §6, used when a ClientSettings is built by hand.
DEFAULT_RATES: Mapping[str, str] = MappingProxyType(
    {"*.metadata": "10/s", "*.landing": "2/s", "*.artifact": "2/s"}
)


@dataclass(frozen=True, slots=True)
class ClientSettings:
    mailto: str | None = None
    allow_private_networks: bool = False
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_redirects: int = 8
    max_connections: int = 100
    # politeness
    rates: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RATES))
    rate_backend: str = "memory"
    rate_key_prefix: str = "oafetch"
    host_concurrency: int = 4
    ignore_robots: bool = False
    robots_ttl_s: float = 3600.0
    robots_error_ttl_s: float = 600.0
    max_retries: int = 4
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 30.0
    breaker_threshold: int = 5
    breaker_cooldown_s: float = 60.0
    # where the metadata cache and the sqlite limiter live (None: no cache)
    state_dir: Path | None = None
    metadata_cache: bool = True
    metadata_cache_ttl_s: float = 7 * 86400.0
    # secrets to redact from messages, besides `mailto` (API keys of sources)
    secrets: tuple[str, ...] = ()
    # injection
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def from_config(cls, config: Config, **overrides: Any) -> ClientSettings:
        """The client's view of `Config.politeness` and `Config.download`."""
        pol, dl = config.politeness, config.download
        secrets = tuple(
            s.api_key.get_secret_value() for s in config.sources.values() if s.api_key is not None
        )
        values: dict[str, Any] = {
            "mailto": config.mailto,
            "allow_private_networks": config.allow_private_networks,
            "connect_timeout_s": dl.connect_timeout_s,
            "read_timeout_s": dl.read_timeout_s,
            "max_redirects": dl.max_redirects,
            "rates": dict(pol.rates),
            "rate_backend": pol.backend,
            "host_concurrency": pol.host_concurrency,
            "ignore_robots": pol.ignore_robots,
            "robots_ttl_s": pol.robots_ttl_s,
            "max_retries": pol.max_retries,
            "backoff_base_s": pol.backoff_base_s,
            "backoff_max_s": pol.backoff_max_s,
            "retry_after_cap_s": pol.retry_after_cap_s,
            "breaker_threshold": pol.breaker_threshold,
            "breaker_cooldown_s": pol.breaker_cooldown_s,
            "robots_error_ttl_s": pol.robots_error_ttl_s,
            "metadata_cache": pol.metadata_cache,
            "metadata_cache_ttl_s": pol.metadata_cache_ttl_s,
            "rate_key_prefix": pol.rate_key_prefix,
            "state_dir": Path(config.out) / ".oafetch",
            "secrets": secrets,
        }
        values.update(overrides)
        return cls(**values)
