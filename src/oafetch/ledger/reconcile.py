"""DB-side reconciliation (DESIGN §7), run at start and periodically by the runner.

Expired leases need no rewrite — the claim statement takes them over atomically, keeping
their progress — so here they are only counted (for the `crash_recovery` event). Stale
`started` ops whose job holds no live lease are marked failed, so whoever claims the job
next re-runs them instead of waiting on an effect nobody is performing. Orphan `.part`
files and blobs are the store's half of reconciliation and live with the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from .base import Ledger

__all__ = ["ReconcileReport", "reconcile"]


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    expired_leases: int  # non-terminal jobs whose lease expired (claimable again)
    stale_ops_failed: int  # `started` ops marked failed so they are re-run

    @property
    def recovered(self) -> bool:
        return bool(self.expired_leases or self.stale_ops_failed)

    def as_fields(self) -> dict[str, int]:
        """Fields for the `crash_recovery` event."""
        return {"expired_leases": self.expired_leases, "stale_ops": self.stale_ops_failed}


def reconcile(ledger: Ledger, *, stale_after_s: float = 60.0) -> ReconcileReport:
    """Count expired leases and fail `started` ops older than `stale_after_s` (default: the
    lease TTL) whose job nobody holds."""
    expired = ledger.expire_leases()
    return ReconcileReport(expired, ledger.fail_stale_ops(stale_after_s))
