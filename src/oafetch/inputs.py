"""Work streams: ids on the command line, then the lines of a text, CSV or JSONL file.

Why a stream of `InputItem` and not a list: an input file may hold millions of ids, so
`iter_inputs` reads one line at a time (constant memory), and why every item carries its
own `error`: one bad line must become one `invalid_input` outcome with its line number,
never the end of the run.

File formats, chosen by extension:

- ``.csv`` / ``.tsv``: a header row; the id columns are any of ``doi``, ``id``,
  ``identifier``, ``arxiv``, ``pmid``, ``pmcid``, ``openalex`` (case-insensitive). Several
  id columns of one row merge into one `WorkIds`. Other columns are ignored.
- ``.jsonl`` / ``.ndjson``: one JSON object per line with the same keys (or a bare JSON
  string holding one id).
- anything else (``.txt`` …): one id per line; blank lines and ``#`` comments are skipped.
- ``-``: standard input, read as text lines.

The OpenAlex query input (``--openalex FILTER [--search TEXT] [--max N]``) is the async
generator `iter_openalex_query`: it pages ``/works?filter=…&cursor=…`` through the polite
client and yields one batch of `InputItem`s per page, so planning keeps pace with paging
and memory stays flat however many works the query selects.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import ConfigError, InvalidIdentifier

if TYPE_CHECKING:
    from .sources.base import SourceContext
from .ids import (
    EXPECTED,
    WorkIds,
    normalize_arxiv,
    normalize_doi,
    normalize_openalex,
    normalize_pmcid,
    normalize_pmid,
    parse_identifier,
)

__all__ = ["ID_COLUMNS", "InputItem", "check_input_file", "iter_inputs", "parse_field"]

# Column / key name -> how its values are read. Typed columns accept their id's own bare
# forms (a bare number in a `pmcid` column means PMC+number, not a PMID).
ID_COLUMNS: tuple[str, ...] = ("doi", "id", "identifier", "arxiv", "pmid", "pmcid", "openalex")

_MAX_SHOWN = 100


@dataclass(frozen=True)
class InputItem:
    """One requested work: where it came from (`line` is None for command-line ids), the
    raw text, and either the parsed ids or a one-line error for an `invalid_input` outcome."""

    line: int | None
    raw: str
    ids: WorkIds | None
    error: str | None


def _shown(raw: str) -> str:
    return raw if len(raw) <= _MAX_SHOWN else raw[: _MAX_SHOWN - 3] + "..."


def _bad(line: int | None, raw: str, why: str | None = None) -> InputItem:
    where = f"line {line}: " if line is not None else ""
    reason = why or f"is not {EXPECTED}"
    return InputItem(line, raw, None, f"{where}{_shown(raw)!r} {reason}")


def _one(line: int | None, raw: str) -> InputItem:
    try:
        return InputItem(line, raw, parse_identifier(raw), None)
    except InvalidIdentifier:
        return _bad(line, raw)


def parse_field(name: str, value: str) -> WorkIds:
    """Parse one CSV cell / JSON value under the id column `name` (lower-case)."""
    if name == "doi":
        return parse_identifier(normalize_doi(value))  # keeps the arXiv id of 10.48550 DOIs
    if name == "arxiv":
        return WorkIds(arxiv=normalize_arxiv(value))
    if name == "pmid":
        return WorkIds(pmid=normalize_pmid(value))
    if name == "pmcid":
        return WorkIds(pmcid=normalize_pmcid(value))
    if name == "openalex":
        return WorkIds(openalex=normalize_openalex(value))
    return parse_identifier(value)


def _from_fields(line: int, pairs: Iterable[tuple[str, Any]], raw: str) -> InputItem:
    """Merge every non-empty id field of one record; any unparsable field fails the record."""
    ids = WorkIds()
    seen_any = False
    for name, value in pairs:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        text = str(value).strip()
        seen_any = True
        try:
            ids = ids.merged(parse_field(name, text))
        except InvalidIdentifier:
            return _bad(line, text, f"in column {name!r} is not {EXPECTED}")
    if not seen_any:
        return _bad(line, raw, "has no identifier in any id column")
    return InputItem(line, raw, ids, None)


@contextmanager
def _open_text(path: Path) -> Iterator[IO[str]]:
    if str(path) == "-":
        yield sys.stdin
        return
    try:
        # utf-8-sig drops a BOM; undecodable bytes become U+FFFD so one bad line stays one
        # invalid item instead of ending the run.
        handle = path.open("r", encoding="utf-8-sig", errors="replace", newline="")
    except FileNotFoundError:
        raise ConfigError(f"input file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"input file is a directory: {path}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read input file {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def _iter_txt(handle: IO[str]) -> Iterator[InputItem]:
    for number, text in enumerate(handle, start=1):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        yield _one(number, stripped)


def _iter_csv(handle: IO[str], path: Path, delimiter: str) -> Iterator[InputItem]:
    reader = csv.reader(handle, delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        return
    columns = [(i, h.strip().lower()) for i, h in enumerate(header)]
    wanted = [(i, name) for i, name in columns if name in ID_COLUMNS]
    if not wanted:
        raise ConfigError(
            f"{path}: no id column in the header (expected one of {', '.join(ID_COLUMNS)})"
        )
    for row in reader:
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        raw = delimiter.join(row)
        pairs = [(name, row[i] if i < len(row) else None) for i, name in wanted]
        yield _from_fields(reader.line_num, pairs, raw)


def _iter_jsonl(handle: IO[str]) -> Iterator[InputItem]:
    for number, text in enumerate(handle, start=1):
        stripped = text.strip()
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except ValueError:
            yield _bad(number, stripped, "is not valid JSON")
            continue
        if isinstance(value, str):
            yield _one(number, value)
        elif isinstance(value, Mapping):
            lowered = {str(k).strip().lower(): v for k, v in value.items()}
            pairs = [(name, lowered[name]) for name in ID_COLUMNS if name in lowered]
            yield _from_fields(number, pairs, stripped)
        else:
            yield _bad(number, stripped, "is neither an object nor an id string")


def _iter_file(path: Path) -> Iterator[InputItem]:
    suffix = path.suffix.lower()
    with _open_text(path) as handle:
        if suffix in (".csv", ".tsv"):
            yield from _iter_csv(handle, path, "\t" if suffix == ".tsv" else ",")
        elif suffix in (".jsonl", ".ndjson"):
            yield from _iter_jsonl(handle)
        else:
            yield from _iter_txt(handle)


def iter_inputs(args: Sequence[str], input_file: Path | None) -> Iterator[InputItem]:
    """Command-line ids first (``line=None``), then the file's records, read lazily.

    The file is checked when this is called, so a missing or unreadable file raises
    `ConfigError` before any work starts, not halfway through the command-line ids.
    """
    check_input_file(input_file)
    return _iter_all(list(args), input_file)


def _iter_all(args: list[str], input_file: Path | None) -> Iterator[InputItem]:
    for arg in args:
        yield _one(None, arg)
    if input_file is not None:
        yield from _iter_file(input_file)


def check_input_file(input_file: Path | None) -> None:
    """Raise `ConfigError` (one line) if the input file cannot be opened for reading."""
    if input_file is not None and str(input_file) != "-":
        with _open_text(input_file):
            pass


async def iter_openalex_query(
    ctx: SourceContext,
    *,
    filter: str,
    search: str | None = None,
    max_works: int | None = None,
    per_page: int = 200,
) -> AsyncIterator[list[InputItem]]:
    """Batches of works selected by an OpenAlex query, following `meta.next_cursor`."""
    from .net.client import Role
    from .sources.openalex import parse_works_page

    cursor: str | None = "*"
    taken = 0
    while cursor and (max_works is None or taken < max_works):
        size = per_page if max_works is None else min(per_page, max_works - taken)
        params: dict[str, str | int] = {"filter": filter, "per-page": size, "cursor": cursor}
        if search:
            params["search"] = search
        if ctx.mailto:
            params["mailto"] = ctx.mailto
        if ctx.settings.api_key:
            params["api_key"] = ctx.settings.api_key
        response = await ctx.http.get(
            f"{ctx.settings.base_url}/works", role=Role.METADATA, params=params
        )
        if response.status_code != 200:
            raise ConfigError(
                f"the OpenAlex query was refused (HTTP {response.status_code}): check --openalex "
                f"{filter!r}"
            )
        data = response.json()
        batch = []
        for result in parse_works_page(data)[:size]:
            if result.ids:
                raw = (
                    f"https://openalex.org/{result.ids.openalex}"
                    if result.ids.openalex
                    else result.ids.key()
                )
                batch.append(InputItem(None, raw, result.ids, None))
        taken += len(batch)
        if batch:
            yield batch
        meta = data.get("meta") or {}
        cursor = meta.get("next_cursor") if data.get("results") else None
