"""One configuration model: packaged defaults < TOML file < OAFETCH_* env < command-line flags.

Why a hand-written env layer instead of pydantic-settings' nested delimiter: the names users
already know are flat and documented (``OAFETCH_SOURCE_OPENALEX_BASE_URL``,
``OAFETCH_OPENALEX_API_KEY``), and we want one place that says exactly which variables count.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from .errors import ConfigError
from .outcomes import Format

__all__ = ["Config", "load_config"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class SourceConfig(_Model):
    base_url: str = ""
    api_url: str | None = None
    timeout_s: float = Field(30.0, gt=0)
    api_key: SecretStr | None = None
    enabled: bool = True


class TierConfig(_Model):
    name: str
    parallel: int = Field(1, ge=1)
    sources: list[str] = Field(default_factory=list)


class FallbackConfig(_Model):
    total_timeout_ms: int = Field(120_000, ge=1)
    max_attempts: int = Field(20, ge=1)
    max_concurrent: int = Field(3, ge=1)
    disable_wayback: bool = False
    tiers: list[TierConfig] = Field(default_factory=list)


class PolitenessConfig(_Model):
    backend: str = "memory"  # memory | sqlite[:///path] | redis://...
    ignore_robots: bool = False
    max_retries: int = Field(4, ge=0)
    backoff_base_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(30.0, ge=0)
    retry_after_cap_s: float = Field(30.0, ge=0)
    breaker_threshold: int = Field(5, ge=1)
    breaker_cooldown_s: float = Field(60.0, ge=0)
    host_concurrency: int = Field(4, ge=1)
    robots_ttl_s: float = Field(3600.0, ge=0)
    robots_error_ttl_s: float = Field(600.0, ge=0)
    # A bot wall (Cloudflare, captcha) holds every request to that host back this long.
    bot_wall_cooldown_s: float = Field(5.0, ge=0)
    metadata_cache: bool = True
    metadata_cache_ttl_s: float = Field(7 * 86400.0, ge=0)
    rate_key_prefix: str = "oafetch"
    rates: dict[str, str] = Field(default_factory=dict)


class DownloadConfig(_Model):
    max_bytes: int = Field(200 * 1024 * 1024, ge=1)
    deadline_s: float = Field(300.0, gt=0)
    connect_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(30.0, gt=0)
    max_redirects: int = Field(8, ge=0)


class SloObjective(_Model):
    """One service-level objective: the measured value must be `op` `target` (None: off)."""

    op: Literal[">=", "<="]
    target: float | None = None


# The direction of each objective (what "better" means); the targets live in defaults.toml.
SLO_DIRECTIONS: dict[str, Literal[">=", "<="]] = {
    "yield_ratio": ">=",
    "ttfp_p50_s": "<=",
    "ttfp_p95_s": "<=",
    "completion_rate": ">=",
    "lease_p99_ms": "<=",
    "replay_rate": "<=",
    "crash_recovery_rate": ">=",
    "rate_limited_ratio": "<=",
    "corruption_count": "<=",
}


def _objective(name: str) -> Any:
    return Field(default_factory=lambda: SloObjective(op=SLO_DIRECTIONS[name]))


class SloConfig(_Model):
    """`[slo]`: targets for `oafetch report --check` (see docs/telemetry.md).

    Each objective is `{op = ">=", target = 0.8}` or just the number (keeps its direction).
    `window_s` = 0 judges everything in the output folder; N judges the last N seconds.
    """

    window_s: float = Field(0.0, ge=0)
    yield_ratio: SloObjective = _objective("yield_ratio")
    ttfp_p50_s: SloObjective = _objective("ttfp_p50_s")
    ttfp_p95_s: SloObjective = _objective("ttfp_p95_s")
    completion_rate: SloObjective = _objective("completion_rate")
    lease_p99_ms: SloObjective = _objective("lease_p99_ms")
    replay_rate: SloObjective = _objective("replay_rate")
    crash_recovery_rate: SloObjective = _objective("crash_recovery_rate")
    rate_limited_ratio: SloObjective = _objective("rate_limited_ratio")
    corruption_count: SloObjective = _objective("corruption_count")

    @model_validator(mode="before")
    @classmethod
    def _numbers_are_targets(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, op in SLO_DIRECTIONS.items():
            value = out.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[name] = {"op": op, "target": float(value)}
            elif isinstance(value, dict) and "op" not in value:
                out[name] = {"op": op, **value}
        return out

    def objectives(self) -> dict[str, SloObjective]:
        return {name: getattr(self, name) for name in SLO_DIRECTIONS}


class Config(_Model):
    out: Path = Path("oafetch-out")
    mailto: str | None = None
    workers: int = Field(8, ge=1)
    enable_idempotency: bool = True
    ledger_url: str | None = None
    allow_private_networks: bool = False
    prefer: list[Format] = Field(default_factory=lambda: [Format.PDF, Format.XML, Format.HTML])
    lease_ttl_s: float = Field(60.0, gt=0)
    # A retryable failure (transient, rate_limited, budget) is tried again up to this many
    # attempts in all, waiting retry_backoff_s * 4**(n-1) between them (or Retry-After).
    max_job_attempts: int = Field(3, ge=1)
    retry_backoff_s: float = Field(2.0, ge=0)
    # A run waits for jobs in RETRY_WAIT at most this long before it checkpoints and exits.
    retry_wait_max_s: float = Field(300.0, ge=0)
    metrics_port: int | None = None
    only_sources: list[str] | None = None
    disabled_sources: list[str] = Field(default_factory=list)
    enabled_sources: list[str] = Field(default_factory=list)
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    fallback: FallbackConfig = Field(default_factory=FallbackConfig)
    politeness: PolitenessConfig = Field(default_factory=PolitenessConfig)
    download: DownloadConfig = Field(default_factory=DownloadConfig)
    slo: SloConfig = Field(default_factory=SloConfig)

    def source(self, name: str) -> SourceConfig:
        return self.sources.get(name) or SourceConfig()

    def source_active(self, name: str) -> bool:
        """A source runs if enabled (or opted in), not disabled, and within --sources."""
        cfg = self.source(name)
        if name in self.disabled_sources:
            return False
        if self.only_sources is not None and name not in self.only_sources:
            return False
        return cfg.enabled or name in self.enabled_sources


def _deep_merge(base: dict[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _defaults() -> dict[str, Any]:
    text = resources.files("oafetch").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


_TOP_LEVEL_ENV = {
    "OAFETCH_OUT": "out",
    "OAFETCH_MAILTO": "mailto",
    "OAFETCH_WORKERS": "workers",
    "OAFETCH_ENABLE_IDEMPOTENCY": "enable_idempotency",
    "OAFETCH_LEDGER_URL": "ledger_url",
    "OAFETCH_ALLOW_PRIVATE_NETWORKS": "allow_private_networks",
    "OAFETCH_LEASE_TTL_S": "lease_ttl_s",
    "OAFETCH_METRICS_PORT": "metrics_port",
    "OAFETCH_MAX_JOB_ATTEMPTS": "max_job_attempts",
}

# Credentials users already have under well-known names.
_KEY_ENV = {
    "OAFETCH_OPENALEX_API_KEY": "openalex",
    "OAFETCH_CORE_API_KEY": "core",
    "OAFETCH_SEMANTIC_SCHOLAR_API_KEY": "semantic_scholar",
    "OAFETCH_S2_API_KEY": "semantic_scholar",
    "OAFETCH_NCBI_API_KEY": "pmc",
}

_SOURCE_FIELDS = ("BASE_URL", "API_URL", "TIMEOUT_S", "API_KEY", "ENABLED")


def _env_layer(env: Mapping[str, str], known_sources: list[str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for var, key in _TOP_LEVEL_ENV.items():
        if env.get(var, "") != "":
            layer[key] = env[var]
    sources: dict[str, dict[str, Any]] = {}
    for var, name in _KEY_ENV.items():
        if env.get(var):
            sources.setdefault(name, {})["api_key"] = env[var]
    for name in known_sources:
        for fld in _SOURCE_FIELDS:
            var = f"OAFETCH_SOURCE_{name.upper()}_{fld}"
            if env.get(var, "") != "":
                sources.setdefault(name, {})[fld.lower()] = env[var]
    if sources:
        layer["sources"] = sources
    if env.get("OAFETCH_RATE_BACKEND"):
        layer.setdefault("politeness", {})["backend"] = env["OAFETCH_RATE_BACKEND"]
    if env.get("OAFETCH_IGNORE_ROBOTS"):
        layer.setdefault("politeness", {})["ignore_robots"] = env["OAFETCH_IGNORE_ROBOTS"]
    return layer


_ROLES = ("metadata", "landing", "artifact")


def _merge_rates(lower: Mapping[str, str], upper: Mapping[str, str]) -> dict[str, str]:
    """Layer `upper` rates over `lower`; a role-less key (`*`, `host`) in the upper layer
    also replaces the lower layers' per-role keys for the same host pattern.

    Without this `--rate '*=1000/s'` would lose to the more specific packaged (or config
    file) `*.artifact = 2/s`, and a user could never lift the limits for a local run.
    """
    shadowed = {f"{key}.{role}" for key in upper for role in _ROLES if not key.endswith(_ROLES)}
    merged = {k: v for k, v in lower.items() if k not in shadowed}
    merged.update(upper)
    return merged


def _rates_of(layer: Mapping[str, Any]) -> dict[str, str]:
    rates = layer.get("politeness", {}).get("rates", {})
    return dict(rates) if isinstance(rates, Mapping) else {}


def load_config(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Build the effective Config; raise ConfigError with a one-line, actionable message."""
    env = os.environ if env is None else env
    defaults = _defaults()
    layers: list[dict[str, Any]] = [defaults]
    if path is None and env.get("OAFETCH_CONFIG"):
        path = Path(env["OAFETCH_CONFIG"])
    if path is not None:
        try:
            layers.append(tomllib.loads(path.read_text("utf-8")))
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    known_sources = [name for layer in layers for name in layer.get("sources", {})]
    layers.append(_env_layer(env, known_sources))
    if overrides:
        layers.append({k: v for k, v in overrides.items() if v is not None})
    data: dict[str, Any] = {}
    rates: dict[str, str] = {}
    for layer in layers:
        data = _deep_merge(data, layer)
        rates = _merge_rates(rates, _rates_of(layer))
    data.setdefault("politeness", {})["rates"] = rates
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"invalid configuration value for '{where}': {err['msg']}") from None


def config_to_json(config: Config) -> str:
    """Serialise a Config with its secrets, for handing to child worker processes on stdin."""
    import json

    from pydantic import SecretStr as _Secret

    def reveal(value: Any) -> Any:
        if isinstance(value, _Secret):
            return value.get_secret_value()
        if isinstance(value, dict):
            return {k: reveal(v) for k, v in value.items()}
        if isinstance(value, list):
            return [reveal(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        return value

    return json.dumps(reveal(config.model_dump(mode="python")), default=str)


def config_from_json(text: str) -> Config:
    import json

    try:
        return Config.model_validate(json.loads(text))
    except (ValueError, ValidationError) as exc:
        raise ConfigError(f"invalid configuration handed to the worker: {exc}") from None
