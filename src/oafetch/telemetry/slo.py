"""Service-level objectives (DESIGN §9): measured figures against configured targets.

Why nothing is hard-coded here: targets and directions come from `[slo]` in the config
(`SloConfig`); this module only knows where each objective's measured value lives in the
figures of `measures.compute_measures`. An objective with nothing to measure in the window
is "no data" — never a pass dressed up as 0, and never a failure of `report --check`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..config import SloConfig, SloObjective

__all__ = ["SloResult", "evaluate_slos", "violations"]

Status = Literal["ok", "violated", "no_data", "off"]


@dataclass(frozen=True, slots=True)
class SloResult:
    name: str
    op: str
    target: float | None
    value: float | None
    status: Status
    unit: str = ""
    detail: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line: `yield_ratio 0.72 < 0.8 (violated)`."""
        if self.status == "off":
            return f"{self.name}: off"
        if self.value is None:
            return f"{self.name}: no data (target {self.op} {_fmt(self.target)}{self.unit})"
        line = (f"{self.name} = {_fmt(self.value)}{self.unit}, "
                f"target {self.op} {_fmt(self.target)}{self.unit}")
        if self.detail:
            line += f" [{'; '.join(self.detail)}]"
        return f"{line}: {'VIOLATED' if self.status == 'violated' else 'ok'}"


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"


def _get(m: Mapping[str, Any], *path: str) -> float | None:
    cur: Any = m
    for key in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return float(cur) if isinstance(cur, int | float) and not isinstance(cur, bool) else None


def _meets(value: float, obj: SloObjective) -> bool:
    assert obj.target is not None
    return value >= obj.target if obj.op == ">=" else value <= obj.target


def _per_host_429(m: Mapping[str, Any], obj: SloObjective) -> tuple[float | None, list[str]]:
    """The worst host's 429 ratio, and the hosts over the target."""
    worst: float | None = None
    over: list[str] = []
    for host, h in (m.get("hosts") or {}).items():
        ratio = h.get("ratio_429")
        if ratio is None:
            continue
        if worst is None:
            worst = ratio
        else:
            worst = max(worst, ratio) if obj.op == "<=" else min(worst, ratio)
        if obj.target is not None and not _meets(float(ratio), obj):
            over.append(f"{host} {ratio:.3g} ({h.get('status_429')}/{h.get('requests')})")
    return worst, over


_Getter = Callable[[Mapping[str, Any]], float | None]

# Where each objective's value lives in the measures, and its unit for display.
_VALUES: dict[str, tuple[_Getter, str]] = {
    "yield_ratio": (lambda m: _get(m, "yield", "ratio"), ""),
    "ttfp_p50_s": (lambda m: _get(m, "ttfp", "p50_s"), " s"),
    "ttfp_p95_s": (lambda m: _get(m, "ttfp", "p95_s"), " s"),
    "completion_rate": (lambda m: _get(m, "completion", "rate"), ""),
    "lease_p99_ms": (lambda m: _get(m, "lease", "p99_ms"), " ms"),
    "replay_rate": (lambda m: _get(m, "replay", "rate"), ""),
    "crash_recovery_rate": (lambda m: _get(m, "recovered", "rate"), ""),
    "corruption_count": (lambda m: _get(m, "corruption", "count"), ""),
}


def evaluate_slos(measures: Mapping[str, Any], config: SloConfig) -> list[SloResult]:
    """Judge every configured objective against `measures` (from `compute_measures`)."""
    results: list[SloResult] = []
    for name, obj in config.objectives().items():
        detail: list[str] = []
        if name == "rate_limited_ratio":
            value, detail = _per_host_429(measures, obj)
            unit = ""
        else:
            getter, unit = _VALUES[name]
            value = getter(measures)
        status: Status
        if obj.target is None:
            status = "off"
        elif value is None:
            status = "no_data"
        elif name == "rate_limited_ratio":
            status = "violated" if detail else "ok"
        else:
            status = "ok" if _meets(value, obj) else "violated"
        results.append(SloResult(name, obj.op, obj.target, value, status, unit, detail))
    return results


def violations(results: list[SloResult]) -> list[SloResult]:
    return [r for r in results if r.status == "violated"]
