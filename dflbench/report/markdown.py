"""GitHub-flavoured Markdown of a SuiteResult (best cells in bold)."""

from __future__ import annotations

from dflbench.report._view import TableView, build_views, legend, run_footer
from dflbench.results import SuiteResult


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def table(view: TableView) -> str:
    """A GFM table: header, alignment row, one line per row."""
    lines = [
        "| " + " | ".join(_escape(c) for c in view.columns) + " |",
        "|" + "|".join([":---"] + ["---:"] * (len(view.columns) - 1)) + "|",
    ]
    for row in view.rows:
        cells = [f"**{_escape(c.text)}**" if c.best else _escape(c.text) for c in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render(result: SuiteResult) -> str:
    out = [f"# dflbench: {result.suite['name']}", ""]
    for view in build_views(result):
        out += [f"## {view.name}", "", view.header, "", f"**{view.summary.title}** ({view.summary.caption})",
                "", table(view.summary), "", f"**{view.per_class.title}** ({view.per_class.caption})",
                "", table(view.per_class), ""]
        out += [f"> {note}" for note in view.notes]
        if view.notes:
            out.append("")
    out += ["## Losses", ""] + [f"- {_escape(line)}" for line in legend(result)] + [""]
    out.append(f"_{run_footer(result)}_")
    return "\n".join(out) + "\n"
