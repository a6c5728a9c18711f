"""Rate strings, rate keys and the --rate flag: pure parsing, no I/O."""

from __future__ import annotations

import pytest

from oafetch.config import load_config
from oafetch.errors import ConfigError
from oafetch.net.politeness import RateTable, parse_rate_flag, parse_rates


def _pairs(text: str) -> list[tuple[int, int]]:
    return [(r.limit, r.interval) for r in parse_rates(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/s", [(10, 1000)]),
        ("1/3s", [(1, 3000)]),
        ("30/m", [(30, 60_000)]),
        ("1000/h", [(1000, 3_600_000)]),
        ("50000/d", [(50000, 86_400_000)]),
        ("5/s,100/h", [(5, 1000), (100, 3_600_000)]),
        (" 100/h , 5/s ", [(5, 1000), (100, 3_600_000)]),  # sorted shortest first
        ("1/1.5s", [(1, 1500)]),
        ("2/500ms", [(2, 500)]),
    ],
)
def test_parse_rates(text: str, expected: list[tuple[int, int]]) -> None:
    assert _pairs(text) == expected


@pytest.mark.parametrize(
    "text", ["", "10", "10/", "/s", "ten/s", "10/x", "0/s", "-1/s", "5/s,", "5/s,3/h", "5/s,5/s",
             "1/s,100/m"],
)
def test_parse_rates_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match="bad rate"):
        parse_rates(text)


def test_parse_rate_flag() -> None:
    key, rates = parse_rate_flag("API.OpenAlex.org.metadata=5/s,100/h")
    assert key == "api.openalex.org.metadata"
    assert [(r.limit, r.interval) for r in rates] == [(5, 1000), (100, 3_600_000)]
    assert parse_rate_flag("*=1000/s")[0] == "*"
    assert parse_rate_flag("*.artifact=1/s")[0] == "*.artifact"
    assert parse_rate_flag("localhost:8080=1/s")[0] == "localhost:8080"


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("arxiv.org", "expected HOST"),
        ("=1/s", "expected HOST"),
        ("arxiv.org=", "expected HOST"),
        ("bad host!=1/s", "bad rate key"),
        ("*.*=1/s", "bad rate key"),
        ("arxiv.org=fast", "bad rate"),
    ],
)
def test_parse_rate_flag_rejects(flag: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rate_flag(flag)


def test_most_specific_key_wins_and_sets_the_sharing() -> None:
    table = RateTable({
        "*": "100/s",
        "*.landing": "2/s",
        "arxiv.org": "1/3s",
        "arxiv.org.metadata": "4/s",
    })
    # host.role beats host; the bucket is per (host, role)
    bucket, rates = table.lookup("arxiv.org", "metadata") or ("", ())
    assert (bucket, rates[0].limit) == ("arxiv.org.metadata", 4)
    # host beats *.role; a role-less key gives one bucket for the whole host
    assert table.lookup("arxiv.org", "landing") == table.lookup("arxiv.org", "artifact")
    assert (table.lookup("arxiv.org", "landing") or ("",))[0] == "arxiv.org"
    # *.role: a bucket per (host, role)
    assert (table.lookup("example.org", "landing") or ("",))[0] == "example.org.landing"
    # *: a bucket per host, never one for all hosts
    assert (table.lookup("example.org", "artifact") or ("",))[0] == "example.org"
    assert (table.lookup("other.org", "artifact") or ("",))[0] == "other.org"


def test_no_matching_key_means_no_limit() -> None:
    assert RateTable({"arxiv.org": "1/3s"}).lookup("example.org", "landing") is None


def test_packaged_defaults_parse() -> None:
    """Every known-host etiquette default in defaults.toml is a valid rate."""
    config = load_config(env={})
    table = RateTable(config.politeness.rates)
    bucket, rates = table.lookup("export.arxiv.org", "metadata") or ("", ())
    assert bucket == "export.arxiv.org"
    assert (rates[0].limit, rates[0].interval) == (1, 3000)
    bucket, rates = table.lookup("unknown.example", "landing") or ("", ())
    assert (rates[0].limit, rates[0].interval) == (2, 1000)


async def test_backend_errors_are_one_line_config_errors(tmp_path: object) -> None:
    import asyncio
    import time

    from oafetch.net.politeness import RateLimiter

    def make(backend: str) -> RateLimiter:
        return RateLimiter(RateTable({"*": "1/s"}), backend, clock=time.monotonic,
                           wall_clock=time.time, sleep=asyncio.sleep)

    with pytest.raises(ConfigError, match="unknown rate-limit backend 'memcache://x'"):
        make("memcache://x")
    with pytest.raises(ConfigError, match="needs an output folder"):
        make("sqlite")
    dead = make("redis://:hunter2@127.0.0.1:1/0")  # nothing listens on port 1
    with pytest.raises(ConfigError, match="cannot reach the Redis") as info:
        await dead.acquire("h", "metadata")
    assert "hunter2" not in str(info.value)
    await dead.aclose()
