"""The exceptions oafetch raises, in one tree so callers can catch at the right depth.

    OafetchError                     anything this package raises on purpose
    ├── ConfigError                  a broken config file, flag or env var  (exit code 2)
    ├── InvalidIdentifier            an input that is no DOI/arXiv/PMID/PMCID/OpenAlex id
    ├── LedgerError                  the ledger cannot be used            (exit code 1)
    │   ├── LedgerUnavailable        cannot connect / wrong credentials
    │   ├── SchemaTooNew             the database was migrated by a newer oafetch
    │   └── LeaseLost                a fenced transition changed zero rows: stop touching the job
    ├── StoreError                   the artifact store cannot be written (disk full, permissions)
    └── NetError                     a request did not produce a usable response
        ├── PolicySkip               robots.txt, deny list, private address: we chose not to ask
        ├── CircuitOpen              the host's breaker is open until `until`
        ├── RateLimited              the host said 429 / Retry-After beyond our cap
        ├── TransientNetError        timeouts, resets, 5xx after retries: try again later
        ├── DownloadTooLarge         the body passed `max_bytes`
        ├── DownloadDeadline         the total deadline of one download passed
        └── RedirectPathology        too many redirects, or a loop

Why one tree: the cascade maps every `NetError` subclass to exactly one failure class of
DESIGN §8 (see `outcomes.classify_exception`), and the CLI maps the top branches to exit codes.
"""

from __future__ import annotations


class OafetchError(Exception):
    """Base of every exception oafetch raises on purpose."""


class ConfigError(OafetchError):
    """The configuration (file, environment or flags) is invalid."""


class InvalidIdentifier(OafetchError, ValueError):
    """The text is not a recognisable scholarly identifier."""


class LedgerError(OafetchError):
    """The ledger database cannot be used."""


class LedgerUnavailable(LedgerError):
    """The ledger database cannot be reached or refused our credentials."""


class SchemaTooNew(LedgerError):
    """The ledger schema was written by a newer oafetch than this one."""


class LeaseLost(LedgerError):
    """A fenced write changed zero rows: another worker owns the job now."""


class StoreError(OafetchError):
    """The artifact store could not be written (disk full, permissions, ...)."""


class NetError(OafetchError):
    """A request did not produce a usable response."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        # The first bytes of an error body, when the caller kept them (bot wall vs login).
        self.head: bytes | None = None


class PolicySkip(NetError):
    """We chose not to make the request (robots.txt, deny list, private network)."""


class CircuitOpen(NetError):
    """The host's circuit breaker is open; `until` is a monotonic deadline."""

    def __init__(self, message: str, *, url: str | None = None, until: float = 0.0) -> None:
        super().__init__(message, url=url)
        self.until = until


class RateLimited(NetError):
    """The host asked us to wait longer than we are willing to hold a worker.

    `retry_at` is a wall-clock UNIX time after which the job may be tried again.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = 429,
        retry_at: float = 0.0,
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.retry_at = retry_at


class TransientNetError(NetError):
    """Timeouts, connection resets, 5xx after retries: worth trying again later."""


class DownloadTooLarge(NetError):
    """The response body passed the configured `max_bytes`."""


class DownloadDeadline(NetError):
    """The total deadline for one download passed (slow-loris protection)."""


class RedirectPathology(NetError):
    """Too many redirects, or a redirect loop."""
