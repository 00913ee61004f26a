"""GitHub-flavoured Markdown (``--format markdown``): best and strong cells in bold, verdicts
with an emoji; ready for ``$GITHUB_STEP_SUMMARY`` or a pull-request comment."""

from __future__ import annotations

from typing import Any

from dflbench.report import RENDERERS, Renderer
from dflbench.report.cells import BAD, GOOD, WARN, Cell, TableView
from dflbench.report.compare_view import build_view
from dflbench.report.rank_view import RankView, VerdictView, build_rank_view
from dflbench.report.suite_view import build_suite_view

_EMOJI = {GOOD: "🟢 ", BAD: "🔴 ", WARN: "🟡 ", "": ""}
_HEADLINE = {GOOD: "✅ ", BAD: "❌ ", "": ""}


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def _cell(cell: Cell) -> str:
    text = (_EMOJI[cell.tone] if cell.verdict else "") + _escape(cell.text)
    return f"**{text}**" if cell.best or cell.strong else text


def table(view: TableView) -> str:
    """A GFM table: header, alignment row, one line per row."""
    marks = {"left": ":---", "right": "---:"}
    lines = ["| " + " | ".join(_escape(c) for c in view.columns) + " |",
             "|" + "|".join(marks[a] for a in view.alignment()) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in view.rows]
    return "\n".join(lines)


def _section(title: str, lines: list[str]) -> list[str]:
    return [f"### {title}", "", *[f"- {line}" for line in lines], ""] if lines else []


@RENDERERS.register("markdown")
class Markdown(Renderer):
    def suite(self, result: Any) -> str:
        view = build_suite_view(result)
        out = [f"# {view.title}", "", view.protocol, ""]
        for ds in view.datasets:
            out += [f"## {ds.name}", "", ds.header, ""]
            for t in (ds.summary, ds.per_class):
                out += [f"**{t.title}** ({t.caption})", "", table(t), ""]
            out += [f"> {note}" for note in ds.notes] + ([""] if ds.notes else [])
        out += ["## Losses", ""] + [f"- {_escape(line)}" for line in view.legend] + [""]
        if view.verdict is not None:
            out += verdict_section(view.verdict)
        return "\n".join([*out, f"_{view.footer}_"]) + "\n"

    def ranking(self, ranking: Any) -> str:
        return "\n".join(rank_section(build_rank_view(ranking))) + "\n"

    def comparison(self, comparison: Any) -> str:
        view = build_view(comparison)
        out = ["## dflbench compare", "", f"**{_HEADLINE[view.headline_tone]}{view.headline}**", ""]
        out += [f"- {line}" for line in view.counts]
        out += [f"- {_escape(line)}" for line in view.across]
        out += ["", table(view.files), ""]
        out += _section("Regressions", view.regressions)
        if view.movers is not None:
            out += [f"### {view.movers.title}", "", table(view.movers), ""]
        for ds in view.datasets:
            out += [f"### {ds.name}", "", f"_{ds.table.title}_", "", table(ds.table), ""]
            if ds.per_class is not None:
                out += ["<details><summary>Per-class recall / F1</summary>", "",
                        table(ds.per_class), "", "</details>", ""]
        out += _section("Did not align (not compared)", view.unaligned)
        out += _section("Notes", view.notes)
        return "\n".join([*out, f"_{view.legend}_"]) + "\n"


def verdict_section(view: VerdictView) -> list[str]:
    out = [f"## {view.title}", ""]
    if view.ranks is not None:
        out += [f"**{view.ranks.title}** ({view.ranks.caption})", "", table(view.ranks), ""]
    for _, lines in view.sections:
        out += [f"- {_escape(line)}" for line in lines] + [""]
    return out + [f"> {_escape(line)}" for line in view.common] + ([""] if view.common else [])


def rank_section(view: RankView) -> list[str]:
    out = [f"# {view.title}", "", f"_{_escape(view.subtitle)}_", ""]
    for m in view.metrics:
        out += [f"## {_escape(m.title)}", "", table(m.means), ""]
        out += [f"- {_escape(line)}" for line in m.tests] + [""]
        if m.pairwise is not None:
            out += [table(m.pairwise), ""]
        if m.diagram:
            out += ["Critical-difference diagram (Nemenyi):", "", "```text", *m.diagram, "```", ""]
        out += ["**Verdict**", ""] + [f"- {_escape(line)}" for line in m.verdict] + [""]
        out += [f"> {_escape(note)}" for note in m.notes] + ([""] if m.notes else [])
    out += _section("Notes", view.notes)
    return [*out, f"_{_escape(view.legend)}_"]
