"""Reading a migration CSV: header, blank lines, and every bad row named by line."""

from __future__ import annotations

import pytest

from imagekit_jobs._csvfile import CsvFormatError, FolderPair, read_pairs


def test_rows_with_header_and_blank_lines(tmp_path):
    """The header row and blank lines are skipped; line numbers are the file's."""
    path = tmp_path / "m.csv"
    path.write_text("source,destination\n/a,/b\n\n /c , /d \n")
    assert read_pairs(path) == [FolderPair(2, "/a", "/b"), FolderPair(4, "/c", "/d")]


def test_every_bad_row_is_reported_with_its_line(tmp_path):
    """Missing column, empty path, extra column, same folder: all named at once."""
    path = tmp_path / "m.csv"
    path.write_text("/ok,/fine\n/only\n,/x\n/y,\n/a,/b,/c\n/s,/s\n")
    with pytest.raises(CsvFormatError) as info:
        read_pairs(path)
    assert info.value.problems == [
        (2, "expected 2 columns (source,destination), found 1"),
        (3, "empty source"),
        (4, "empty destination"),
        (5, "expected 2 columns (source,destination), found 3"),
        (6, "source and destination are the same"),
    ]
    assert isinstance(info.value, ValueError)


def test_empty_file_is_an_error(tmp_path):
    """A CSV with no rows is refused."""
    path = tmp_path / "m.csv"
    path.write_text("source,destination\n")
    with pytest.raises(CsvFormatError, match="no rows"):
        read_pairs(path)


def test_unreadable_file(tmp_path):
    """A missing file: InvalidInputError naming it."""
    with pytest.raises(ValueError, match="cannot read"):
        read_pairs(tmp_path / "missing.csv")
