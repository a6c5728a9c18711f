"""oafetch: lawful open-access full text of scholarly works, fetched politely and provably.

The public Python API is re-exported here and nowhere else; `__all__` is kept sorted and a
test checks it matches what is exported.
"""

from __future__ import annotations

__version__ = "0.1.0"

# `fetch` is both the public function and the `oafetch.fetch` subpackage (DESIGN §2).
# Importing `.api` first loads the subpackage (which binds `oafetch.fetch` to it); binding
# the function afterwards makes `oafetch.fetch` the function for good, since a loaded
# subpackage is never re-bound on the parent.
from .api import fetch, fetch_async
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
from .runner import RunSummary

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
