"""Rich terminal tables (``--format table``, the default)."""

from __future__ import annotations

from typing import Any

from dflbench.report import RENDERERS, Renderer
from dflbench.report.cells import BAD, GOOD, WARN, TableView
from dflbench.report.compare_view import build_view
from dflbench.report.rank_view import RankView, VerdictView, build_rank_view
from dflbench.report.suite_view import build_suite_view

_STYLE = {GOOD: "green", BAD: "red", WARN: "yellow", "": ""}


def rich_table(view: TableView) -> Any:
    """A rich Table: best cells bold green with a star (visible without colour: NO_COLOR, pipes,
    CI logs), strong cells bold, tones as colours, a rule after each group of rows."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=view.title, caption=view.caption or None, title_justify="left",
                  caption_justify="left")
    for i, (col, align) in enumerate(zip(view.columns, view.alignment())):
        table.add_column(col, justify=align, no_wrap=i == 0 or (view.grouped and i < 2))
    starred = any(cell.best for row in view.rows for cell in row)
    for r, row in enumerate(view.rows):
        texts = []
        for i, cell in enumerate(row):
            style = _STYLE[cell.tone]
            text = cell.text
            if cell.best:
                style, text = f"bold {style or 'green'}", f"{text} *"
            elif cell.strong:
                style = f"bold {style}".strip()
            elif starred and i > 0:
                text += "  "
            texts.append(Text(text, style=style))
        new_group = view.grouped and r + 1 < len(view.rows) and view.rows[r + 1][0].text != ""
        table.add_row(*texts, end_section=new_group)
    return table


@RENDERERS.register("table")
class RichTables(Renderer):
    def suite(self, result: Any) -> Any:
        from rich.console import Group
        from rich.text import Text

        view = build_suite_view(result)
        parts: list[Any] = [Text(view.protocol, style="dim")]
        for ds in view.datasets:
            parts += [Text(f"\n{ds.name}", style="bold"), Text(ds.header, style="dim"),
                      rich_table(ds.summary), rich_table(ds.per_class)]
            parts += [Text(f"! {note}", style="yellow") for note in ds.notes]
        parts.append(Text("\nLosses", style="bold"))
        parts += [Text(f"  {line}", style="dim") for line in view.legend]
        if view.verdict is not None:
            parts += verdict_parts(view.verdict)
        parts.append(Text(view.footer, style="dim"))
        return Group(*parts)

    def ranking(self, ranking: Any) -> Any:
        from rich.console import Group

        return Group(*rank_parts(build_rank_view(ranking)))

    def comparison(self, comparison: Any) -> Any:
        from rich.console import Group
        from rich.text import Text

        view = build_view(comparison)
        parts: list[Any] = [Text(view.headline, style=f"bold {_STYLE[view.headline_tone]}".strip())]
        parts += [Text(line) for line in view.counts]
        parts += [Text(line) for line in view.across]
        parts.append(rich_table(view.files))
        if view.regressions:
            parts.append(Text("Regressions", style="bold red"))
            parts += [Text(f"  {line}", style="red") for line in view.regressions]
        if view.movers is not None:
            parts.append(rich_table(view.movers))
        for ds in view.datasets:
            parts += [Text(f"\n{ds.name}", style="bold"), rich_table(ds.table)]
            if ds.per_class is not None:
                parts.append(rich_table(ds.per_class))
        if view.unaligned:
            parts.append(Text("\nDid not align (not compared)", style="bold yellow"))
            parts += [Text(f"  - {line}", style="yellow") for line in view.unaligned]
        if view.notes:
            parts.append(Text("\nNotes", style="bold"))
            parts += [Text(f"  - {line}") for line in view.notes]
        parts.append(Text(view.legend, style="dim"))
        return Group(*parts)


def verdict_parts(view: VerdictView) -> list[Any]:
    """The verdict section that ends a suite report."""
    from rich.text import Text

    parts: list[Any] = [Text(f"\n{view.title}", style="bold")]
    if view.ranks is not None:
        parts.append(rich_table(view.ranks))
    for _, lines in view.sections:
        parts += [Text(f"  {line}") for line in lines] + [Text("")]
    parts += [Text(f"  {line}", style="dim") for line in view.common]
    return parts


def rank_parts(view: RankView) -> list[Any]:
    """``dflbench rank``: per metric the means table, tests, pairs, CD diagram and verdict."""
    from rich.text import Text

    parts: list[Any] = [Text(view.title, style="bold"), Text(view.subtitle, style="dim")]
    for m in view.metrics:
        parts += [Text(f"\n{m.title}", style="bold"), rich_table(m.means)]
        parts += [Text(f"  {line}") for line in m.tests]
        if m.pairwise is not None:
            parts.append(rich_table(m.pairwise))
        if m.diagram:
            parts += [Text("Critical-difference diagram (Nemenyi)", style="bold")]
            parts += [Text(line, no_wrap=True) for line in m.diagram]
        parts.append(Text("Verdict", style="bold"))
        parts += [Text(f"  {line}") for line in m.verdict]
        parts += [Text(f"  ! {note}", style="yellow") for note in m.notes]
    parts += [Text(f"! {note}", style="yellow") for note in view.notes]
    parts.append(Text(view.legend, style="dim"))
    return parts
