"""What every view is made of: tables of text cells, and the one rule that marks a best cell."""

from __future__ import annotations

from dataclasses import dataclass

#: Tones of a cell: good/bad/warn (green/red/yellow on a terminal, an emoji in Markdown).
GOOD, BAD, WARN = "good", "bad", "warn"


@dataclass
class Cell:
    """A cell's text. ``best``: the best value of its column (:func:`mark_best`; bold and starred);
    ``strong``: emphasised (bold); ``tone`` colours it; a ``verdict`` cell shows its tone as an
    emoji where there is no colour."""

    text: str
    best: bool = False
    strong: bool = False
    tone: str = ""
    verdict: bool = False


@dataclass
class TableView:
    """A titled table; ``align`` gives each column "left" or "right" (default: the first column
    left, the rest right); ``grouped`` tables start a group of rows where the first cell is set."""

    title: str
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    align: list[str] | None = None
    grouped: bool = False

    def alignment(self) -> list[str]:
        return self.align or ["left"] + ["right"] * (len(self.columns) - 1)


def mark_best(values: list[float | None], higher: bool, digits: int) -> list[bool]:
    """Which cells of a column hold its best value, judged on the values as shown (rounded to
    ``digits``), so cells that read the same are marked alike; nothing is marked when fewer than
    two values exist or every value reads the same."""
    shown = [None if v is None else float(f"{v:.{digits}f}") for v in values]
    present = [v for v in shown if v is not None]
    if len(present) < 2 or max(present) == min(present):
        return [False] * len(values)
    best = max(present) if higher else min(present)
    return [v is not None and v == best for v in shown]


def mark_column(rows: list[list[Cell]], col: int, values: list[float | None], higher: bool,
                digits: int) -> None:
    """Apply :func:`mark_best` to column ``col`` of ``rows`` (one value per row)."""
    for row, best in zip(rows, mark_best(values, higher, digits)):
        row[col].best = best


def fmt_mean_std(mean: float | None, std: float | None, digits: int = 3) -> str:
    """``mean ± std`` (``mean`` alone without a spread; ``—`` without a value)."""
    if mean is None:
        return "—"
    return f"{mean:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"

