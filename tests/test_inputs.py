"""Input streams: command-line ids, text / CSV / JSONL files, bad lines, big files."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest

from oafetch.errors import ConfigError
from oafetch.ids import WorkIds
from oafetch.inputs import InputItem, iter_inputs


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_command_line_ids_come_first_then_file_lines_with_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "ids.txt",
        "# my reading list\n\n10.7717/peerj.4375\n  arXiv:1706.03762v5  \nnot an id\nPMC3531190\n",
    )
    items = list(iter_inputs(["W2741809807", "pmid:123"], path))
    assert [(i.line, i.ids) for i in items if i.error is None] == [
        (None, WorkIds(openalex="W2741809807")),
        (None, WorkIds(pmid="123")),
        (3, WorkIds(doi="10.7717/peerj.4375")),
        (4, WorkIds(arxiv="1706.03762")),
        (6, WorkIds(pmcid="PMC3531190")),
    ]
    (bad,) = [i for i in items if i.error]
    assert bad == InputItem(
        5,
        "not an id",
        None,
        "line 5: 'not an id' is not a DOI, arXiv id, PMID, PMCID or OpenAlex id",
    )


def test_a_bad_command_line_id_is_an_item_not_an_exception() -> None:
    (item,) = iter_inputs(["10.12/x"], None)
    assert item.line is None and item.ids is None
    assert item.error == "'10.12/x' is not a DOI, arXiv id, PMID, PMCID or OpenAlex id"


def test_csv_merges_several_id_columns_case_insensitively(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "works.csv",
        "Title,DOI,PMID,pmcid,arXiv\n"
        '"A, quoted title",10.7717/peerj.4375,29456894,5815332,\n'
        "only arxiv,,,,hep-th/9901001v2\n"
        "nothing,,,,\n"
        "broken,10.7717/peerj.4375,not-a-pmid,,\n"
        "empty ids,  ,,,\n",
    )
    items = list(iter_inputs([], path))
    assert items[0].line == 2
    assert items[0].ids == WorkIds(doi="10.7717/peerj.4375", pmid="29456894", pmcid="PMC5815332")
    assert items[1].ids == WorkIds(arxiv="hep-th/9901001")
    assert items[2].ids is None and items[2].error is not None
    assert items[2].error.startswith("line 4: ") and "no identifier" in items[2].error
    assert items[3].ids is None and items[3].error is not None
    assert items[3].error.startswith("line 5: 'not-a-pmid' in column 'pmid'")
    assert len(items) == 5


def test_csv_line_numbers_count_physical_lines_of_multiline_cells(tmp_path: Path) -> None:
    path = _write(tmp_path, "w.csv", 'note,id\n"two\nlines",W1\nx,bogus\n')
    items = list(iter_inputs([], path))
    assert items[0].ids == WorkIds(openalex="W1")
    assert [i.line for i in items] == [3, 4]
    assert items[1].error is not None and items[1].error.startswith("line 4: ")


def test_csv_without_an_id_column_is_a_config_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "w.csv", "title,year\nfoo,2020\n")
    with pytest.raises(ConfigError, match="no id column"):
        list(iter_inputs([], path))


def test_jsonl_objects_strings_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"doi": "https://doi.org/10.1038/NATURE12373", "title": "x"}),
        json.dumps({"id": "arXiv:1304.1068"}),
        json.dumps({"DOI": "10.1038/nature12373", "PMCID": "PMC4221854"}),
        "",
        json.dumps("W2741809807"),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"title": "no ids"}),
    ]
    path = _write(tmp_path, "works.jsonl", "\n".join(lines) + "\n")
    items = list(iter_inputs([], path))
    assert [i.ids for i in items[:4]] == [
        WorkIds(doi="10.1038/nature12373"),
        WorkIds(arxiv="1304.1068"),
        WorkIds(doi="10.1038/nature12373", pmcid="PMC4221854"),
        WorkIds(openalex="W2741809807"),
    ]
    assert [i.line for i in items] == [1, 2, 3, 5, 6, 7, 8]
    errors = [i.error for i in items[4:]]
    assert errors[0] == "line 6: '{not json' is not valid JSON"
    assert errors[1] is not None and errors[1].startswith("line 7: ")
    assert errors[2] is not None and "no identifier" in errors[2]


def test_missing_or_unreadable_file_is_a_one_line_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"input file not found: .*nope\.txt$"):
        iter_inputs(["W1"], tmp_path / "nope.txt")  # raised at call, before any item
    with pytest.raises(ConfigError, match="is a directory"):
        iter_inputs([], tmp_path)


def test_bom_and_undecodable_bytes_do_not_stop_the_run(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"\xef\xbb\xbf10.7717/peerj.4375\n\xff\xfe garbage\nW2741809807\n")
    items = list(iter_inputs([], path))
    assert items[0].ids == WorkIds(doi="10.7717/peerj.4375")
    assert items[1].ids is None and items[1].line == 2
    assert items[2].ids == WorkIds(openalex="W2741809807")


def test_stdin_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("PMC1\n\n# c\nW2\n"))
    items = list(iter_inputs([], Path("-")))
    assert [(i.line, i.ids) for i in items] == [
        (1, WorkIds(pmcid="PMC1")),
        (4, WorkIds(openalex="W2")),
    ]


def test_big_file_streams_in_constant_memory(tmp_path: Path) -> None:
    n = 40_000
    path = tmp_path / "big.txt"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(f"10.5555/work.{i:08d}\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        count = 0
        last = None
        for item in iter_inputs([], path):
            count += 1
            last = item
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n and last is not None and last.line == n
    # Holding every item would take tens of MB; streaming stays far below the file size.
    assert peak < size / 4, (peak, size)
