"""Rich terminal tables of a SuiteResult."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from dflbench.report._view import TableView, build_views, legend, run_footer
from dflbench.results import SuiteResult


def _table(view: TableView) -> Table:
    table = Table(title=view.title, caption=view.caption, title_justify="left", caption_justify="left")
    for i, col in enumerate(view.columns):
        table.add_column(col, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in view.rows:
        # The star keeps the best cell visible without colour (NO_COLOR, pipes, CI logs).
        table.add_row(Text(row[0].text), *[
            Text(f"{c.text} *", style="bold green") if c.best else Text(f"{c.text}  ")
            for c in row[1:]])
    return table


def render(result: SuiteResult) -> RenderableType:
    """All datasets' summary and per-class tables, with headers and notes."""
    parts: list[RenderableType] = []
    for view in build_views(result):
        parts.append(Text(f"\n{view.name}", style="bold"))
        parts.append(Text(view.header, style="dim"))
        parts.append(_table(view.summary))
        parts.append(_table(view.per_class))
        for note in view.notes:
            parts.append(Text(f"! {note}", style="yellow"))
    parts.append(Text("\nLosses", style="bold"))
    parts.extend(Text(f"  {line}", style="dim") for line in legend(result))
    parts.append(Text(run_footer(result), style="dim"))
    return Group(*parts)
