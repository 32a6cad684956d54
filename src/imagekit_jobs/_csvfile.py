"""Reading a migration's CSV (``source,destination``), refusing bad rows up front."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass

from ._errors import InvalidInputError

__all__ = ["CsvFormatError", "FolderPair", "read_pairs"]

_HEADERS = {("source", "destination"), ("sourcefolderpath", "destinationpath")}


class CsvFormatError(InvalidInputError):
    """The CSV has bad rows; ``problems`` lists ``(line number, what is wrong)``."""

    def __init__(self, path: str, problems: list[tuple[int, str]]) -> None:
        self.path = path
        self.problems = problems
        shown = "\n".join(f"  line {line}: {what}" for line, what in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{path}: {len(problems)} bad row(s), nothing was sent:\n{shown}{more}")


@dataclass(frozen=True, slots=True)
class FolderPair:
    """One row: the folder to copy or move, where to, and its line in the file."""

    line: int
    source: str
    destination: str


def read_pairs(path: str | os.PathLike[str]) -> list[FolderPair]:
    """Every row of a ``source,destination`` CSV (an optional header row is skipped).

    Raises ``CsvFormatError`` naming every bad line (missing column, extra column, empty
    path, control characters) before the caller sends anything.
    """
    name = os.fspath(path)
    try:
        with open(name, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInputError(f"cannot read {name}: {exc}") from exc
    pairs: list[FolderPair] = []
    problems: list[tuple[int, str]] = []
    for number, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue  # blank lines are allowed
        if number == 1 and tuple(c.lower() for c in cells) in _HEADERS:
            continue
        if len(cells) < 2:
            problems.append((number, "expected 2 columns (source,destination), found 1"))
            continue
        if len(cells) > 2:
            problems.append(
                (number, f"expected 2 columns (source,destination), found {len(cells)}")
            )
            continue
        source, destination = cells
        if not source or not destination:
            problems.append((number, "empty " + ("source" if not source else "destination")))
            continue
        if any(ord(ch) < 32 for ch in source + destination):
            problems.append((number, "control character in a path"))
            continue
        if source == destination:
            problems.append((number, "source and destination are the same"))
            continue
        pairs.append(FolderPair(number, source, destination))
    if problems:
        raise CsvFormatError(name, problems)
    if not pairs:
        raise CsvFormatError(name, [(0, "no rows")])
    return pairs
