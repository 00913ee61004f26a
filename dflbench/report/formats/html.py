"""One self-contained HTML page (``--format html``, ``dflbench report --html``): the tables of
:mod:`..suite_view` and the charts of :mod:`..html_view` drawn by :mod:`..plots` as inline SVG,
styles inline, no script and no network request, readable on a laptop, at phone width and printed.

Templating is Jinja2 (``report/templates/report.html.j2``) because it escapes every value by
default: suite names, class labels and error messages come from users' files, and a page built by
string concatenation is one forgotten escape away from broken or injected markup. Jinja2 is
already installed with torch, so it costs nothing. The same result always gives the same bytes:
no render date, a sorted and deterministic view, deterministic SVG.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dflbench.errors import ConfigError
from dflbench.metrics import METRICS
from dflbench.ranking.compute import rank_means
from dflbench.report import RENDERERS, Renderer
from dflbench.report.cells import Cell, TableView, mark_column
from dflbench.report.html_view import (
    DatasetCharts,
    MeansMatrix,
    Ranker,
    RankSummary,
    dataset_charts,
    failures,
    means_matrices,
    provenance,
)
from dflbench.report.samples_view import Samples
from dflbench.report.suite_view import DatasetView, dataset_views, legend, shown_metrics

#: Digits of an average rank, as shown and as compared when marking the best.
RANK_DIGITS = 2


@dataclass
class Chart:
    """One inline SVG with its caption; ``wide`` charts take the page's width."""

    svg: str
    caption: str = ""
    wide: bool = False

    @property
    def width_px(self) -> int:
        """The width it was drawn at, in CSS pixels (the SVG gives it in points)."""
        found = re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', self.svg)
        return round(float(found.group(1)) * 4 / 3) if found else 0


@dataclass
class Section:
    """A dataset's part of the page: its tables (from the suite view) and its charts."""

    anchor: str
    view: DatasetView
    source: str
    charts: dict[str, list[Chart]] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    samples: SampleRows | None = None
    unit: str = "rows"


@dataclass
class SampleRows:
    """Segmentation's test images drawn: the column heads (image, truth, one per treatment),
    one row of PNG ``data:`` URIs per image, the class colours and what could not be shown."""

    heads: list[str]
    rows: list[list[str]]
    classes: list[tuple[str, str]]
    size: tuple[int, int]  # as shown, in CSS pixels: 96 wide
    note: str = ""


@dataclass
class Cross:
    """The cross-dataset part: why it is empty, or the tables, the diagram and the verdict."""

    note: str = ""
    ranks: TableView | None = None
    diagram: Chart | None = None
    verdict: str = ""
    means: TableView | None = None
    notes: list[str] = field(default_factory=list)


@RENDERERS.register("html")
class Html(Renderer):
    """The HTML page of one or more results (this module's docstring says how it is built)."""

    #: Cross-dataset statistics: a :data:`~dflbench.report.html_view.Ranker` — the one
    #: ``dflbench rank`` uses. Without one the section shows only the per-dataset means.
    ranker: Ranker | None = staticmethod(rank_means)
    #: The HTML report shows results (dflbench report, show, run), not comparisons or rankings.
    draws = ("suite",)

    def suite(self, result: Any) -> str:
        return self.report([("", result)])

    def report(self, sources: Sequence[tuple[str, Any]]) -> str:
        """The page for one or more results (``(file name, result)``), whose datasets must be
        distinct: they are ranked as one set of datasets."""
        from jinja2 import Environment, PackageLoader, select_autoescape

        _check_distinct(sources)
        env = Environment(loader=PackageLoader("dflbench.report", "templates"),
                          autoescape=select_autoescape(default=True, default_for_string=True),
                          trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        return env.get_template("report.html.j2").render(**self._context(sources))

    def _context(self, sources: Sequence[tuple[str, Any]]) -> dict[str, Any]:
        from importlib import resources

        from dflbench import __version__
        from dflbench.report.plots import colour, hatch

        results = [result for _, result in sources]
        names = list(dict.fromkeys(row.label for r in results for row in r.summary))
        metrics = list(dict.fromkeys(m for r in results for m in shown_metrics(r)))
        sections, anchors = [], set()
        for source, result in sources:
            for view in dataset_views(result):  # the ranks come once, from _cross
                anchor = _anchor(view.name, anchors)
                info = next(d for d in result.datasets if d.name == view.name)
                rows = [row for row in result.summary if row.dataset == view.name]
                shown = source if len(sources) > 1 else ""  # which file, when there are several
                sections.append(_section(anchor, view, shown, dataset_charts(result, info, rows),
                                         names))
        title = " + ".join(dict.fromkeys(r.name for r in results))
        return {
            "title": f"dflbench: {title}", "version": __version__,
            "css": resources.files("dflbench.report").joinpath("templates/report.css").read_text(),
            "sources": [(source, provenance(result)) for source, result in sources],
            "sections": sections, "treatments": [(t, colour(i), bool(hatch(i))) for i, t in enumerate(names)],
            "cross": self._cross(results, metrics, names),
            "failures": [(source, f) for source, result in sources for f in failures(result)],
            "legend": list(dict.fromkeys(line for r in results for line in legend(r))),
            "missing": sorted({m for s in sections for m in s.missing}),
        }

    def _cross(self, results: list[Any], metrics: list[str], names: list[str]) -> Cross:
        from dflbench.report import plots

        n = sum(len(r.datasets) for r in results)
        if n < 2:
            return Cross(note=f"The cross-dataset comparison (average ranks, critical-difference "
                              f"diagram) needs at least two datasets; this report holds {n}.")
        if not metrics:
            return Cross(note="No metric of this dflbench is in these results.")
        matrices = means_matrices(results, metrics)
        cross = Cross(means=_means_table(matrices[0]))
        if self.ranker is None:
            cross.note = ("Average ranks and the critical-difference diagram need dflbench's "
                          "cross-dataset statistics, which this dflbench does not include.")
            return cross
        summaries = [self.ranker(m) for m in matrices]
        cross.ranks = _ranks_table(matrices, summaries, names)
        head = summaries[0]
        cross.diagram = Chart(plots.cd_diagram(head, names, "cross/cd"),
                              f"{METRICS[matrices[0].metric].title}: average rank over "
                              f"{len(matrices[0].datasets)} datasets (1 = best); a bar joins "
                              "treatments the Nemenyi test cannot separate", wide=True)
        cross.verdict = head.verdict
        cross.notes = [f"{METRICS[m.metric].title}: {s.note}" for m, s in zip(matrices, summaries)
                       if s.note]
        return cross


def _check_distinct(sources: Sequence[tuple[str, Any]]) -> None:
    seen: dict[str, str] = {}
    for source, result in sources:
        for info in result.datasets:
            if info.name in seen:
                raise ConfigError(
                    f"{source}: dataset '{info.name}' is also in {seen[info.name]}; a report joins "
                    "files with distinct datasets (to compare two runs of one suite, use "
                    "'dflbench compare')")
            seen[info.name] = source


def _anchor(name: str, taken: set[str]) -> str:
    base = "ds-" + (re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "dataset")
    anchor, k = base, 2
    while anchor in taken:
        anchor, k = f"{base}-{k}", k + 1
    taken.add(anchor)
    return anchor


def _section(anchor: str, view: DatasetView, source: str, charts: DatasetCharts,
             names: list[str]) -> Section:
    """Draw one dataset's charts, each treatment in its colour across the whole page."""
    from dflbench.report import plots

    idx = {t: names.index(t) for t in charts.treatments}
    s = Section(anchor, view, source, missing=charts.missing, unit=charts.unit)
    if charts.bars is not None:
        group = (f" (classes grouped in thirds by training {charts.unit})"
                 if charts.bars.grouped else "")
        f1 = "Dice (F1 over pixels)" if charts.unit == "pixels" else "F1"
        s.charts["bars"] = [
            Chart(plots.class_bars(charts.bars, what, f"{anchor}/{what}"),
                  f"{title} per class, mean over runs (error bar: standard deviation){group}",
                  wide=True)
            for what, title in (("recall", "Recall"), ("f1", f1))]
    most = max((c.n_runs for c in [*charts.confusion, *charts.reliability]), default=0)
    s.charts["confusion"] = [Chart(plots.confusion(c, f"{anchor}/cm/{c.treatment}"), _fewer(c.n_runs, most))
                             for c in charts.confusion]
    s.charts["reliability"] = [Chart(plots.reliability(r, idx[r.treatment], f"{anchor}/rel/{r.treatment}"),
                                     _fewer(r.n_runs, most)) for r in charts.reliability]
    s.charts["loss"] = [Chart(plots.curves(c, idx[c.treatment], "training loss",
                                           f"{anchor}/loss/{c.treatment}")) for c in charts.loss]
    monitor = {"macro_f1": "validation macro-F1", "loss": "validation loss"}.get(
        charts.monitor or "", f"validation {charts.monitor}")
    s.charts["validation"] = [Chart(plots.curves(c, idx[c.treatment], monitor,
                                                 f"{anchor}/val/{c.treatment}"))
                              for c in charts.validation]
    s.captions["validation"] = monitor[:1].upper() + monitor[1:]
    s.charts["learned"] = [
        Chart(plots.curves(c, idx[c.treatment], name, f"{anchor}/learned/{name}/{c.treatment}",
                           f"{c.treatment}: learned {name}"))
        for name, group in sorted(charts.learned.items()) for c in group]
    s.charts["tuning"] = [Chart(plots.tuning(t, idx[t.treatment], f"{anchor}/tuning/{t.treatment}"),
                                f"{sum(t.chosen)} run(s) tuned") for t in charts.tuning]
    if charts.samples is not None:
        s.samples = _sample_rows(charts.samples)
    return s


def _sample_rows(samples: Samples) -> SampleRows:
    """Each sample image, its true mask and every treatment's prediction as PNGs."""
    from dflbench.report.masks import class_colour, image_uri, mask_uri

    hw, n = samples.image_shape[1:], len(samples.classes)
    rows = [[image_uri(image, samples.image_shape), mask_uri(truth, hw, n),
             *[mask_uri(masks[i], hw, n) for _, masks in samples.predicted]]
            for i, (image, truth) in enumerate(zip(samples.images, samples.truth))]
    note = ("No prediction to show for " + ", ".join(samples.absent) + " (no finished run)."
            if samples.absent else "")
    return SampleRows(["image", "ground truth", *[label for label, _ in samples.predicted]], rows,
                      [(name, class_colour(c)) for c, name in enumerate(samples.classes)],
                      (96, round(96 * hw[0] / hw[1])), note)


def _fewer(n: int, most: int) -> str:
    """A chart's caption when it pools fewer runs than the others (some diverged or failed)."""
    return f"from {n} run{'s' if n != 1 else ''} only (the others did not finish)" if n < most else ""


def _ranks_table(matrices: list[MeansMatrix], summaries: list[RankSummary],
                 names: list[str]) -> TableView:
    """Average rank per treatment (rows) and metric (columns); the best (lowest) marked."""
    rows = [[Cell(t)] + [Cell("—" if t not in s.average_ranks else f"{s.average_ranks[t]:.{RANK_DIGITS}f}")
                         for s in summaries] for t in names]
    for col, s in enumerate(summaries, start=1):
        mark_column(rows, col, [s.average_ranks.get(t) for t in names], False, RANK_DIGITS)
    n = len(matrices[0].datasets)
    return TableView(f"Average rank over {n} datasets (1 = best)",
                     ["Loss", *[METRICS[m.metric].title for m in matrices]], rows,
                     "lowest average rank per metric marked")


def _means_table(m: MeansMatrix) -> TableView:
    """The headline metric's mean per dataset (rows) and treatment (columns); best per row marked."""
    from dflbench.report.cells import mark_best
    from dflbench.report.suite_view import SUMMARY_DIGITS

    rows = []
    for d, values in zip(m.datasets, m.means):
        best = mark_best(list(values), m.higher_is_better, SUMMARY_DIGITS)
        rows.append([Cell(d)] + [Cell("—" if v is None else f"{v:.{SUMMARY_DIGITS}f}", best=b)
                                 for v, b in zip(values, best)])
    title = METRICS[m.metric].title
    return TableView(f"{title}: mean over runs per dataset", ["Dataset", *m.treatments], rows,
                     f"best per dataset marked; {'higher' if m.higher_is_better else 'lower'} is better")
