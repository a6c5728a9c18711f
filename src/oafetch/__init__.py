"""oafetch: lawful open-access full text of scholarly works, fetched politely and provably.

The public Python API is re-exported here and nowhere else; `__all__` is kept sorted and a
test checks it matches what is exported.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from .config import Config, load_config
from .errors import (
    CircuitOpen,
    ConfigError,
    DownloadDeadline,
    DownloadTooLarge,
    InvalidIdentifier,
    LeaseLost,
    LedgerError,
    LedgerUnavailable,
    NetError,
    OafetchError,
    PolicySkip,
    RateLimited,
    RedirectPathology,
    SchemaTooNew,
    StoreError,
    TransientNetError,
)
from .ids import WorkIds, parse_identifier
from .outcomes import FailureClass, Format, Outcome, Status

if TYPE_CHECKING:
    from .api import fetch, fetch_async
    from .runner import RunSummary

# The runtime half (client, ledger, cascade) loads on first use, so `import oafetch` and
# `oafetch --help` stay fast and light.
_LAZY = {"fetch": "api", "fetch_async": "api", "RunSummary": "runner"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'oafetch' has no attribute {name!r}")


__all__ = [
    "CircuitOpen",
    "Config",
    "ConfigError",
    "DownloadDeadline",
    "DownloadTooLarge",
    "FailureClass",
    "Format",
    "InvalidIdentifier",
    "LeaseLost",
    "LedgerError",
    "LedgerUnavailable",
    "NetError",
    "OafetchError",
    "Outcome",
    "PolicySkip",
    "RateLimited",
    "RedirectPathology",
    "RunSummary",
    "SchemaTooNew",
    "Status",
    "StoreError",
    "TransientNetError",
    "WorkIds",
    "__version__",
    "fetch",
    "fetch_async",
    "load_config",
    "parse_identifier",
]
