"""The HTML report: a page a real parser reads, that loads nothing from anywhere, shows every
section with one inline SVG per chart, renders byte for byte the same, and draws only what the
result holds (a version-1 file renders and says what it lacks)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.stats import rankdata

from dflbench.errors import ConfigError
from dflbench.report import renderer
from dflbench.report.formats.html import Html
from dflbench.report.html_view import (
    GROUP_ABOVE,
    MeansMatrix,
    RankSummary,
    dataset_charts,
    means_matrices,
)
from dflbench.results import (
    Calibration,
    ClassSummary,
    DatasetInfo,
    History,
    RunRecord,
    RunStatus,
    Stat,
    SummaryRow,
    Treatment,
    TuningRecord,
    load_result,
    parse_result,
)

ROOT = Path(__file__).resolve().parents[2]
V1_FILE = ROOT / "tests" / "fixtures" / "v1-smoke-0.1.0.json"
VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base"}


class Page(HTMLParser):
    """The page as html.parser reads it: tags must nest and close, and every reference is kept."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.ids: list[str] = []
        self.tags: list[str] = []
        self.sections: dict[str, str] = {}
        self.feed(text)
        self.close()
        assert self.stack == [], f"unclosed: {self.stack}"

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(tag, attrs)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._attrs(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def _attrs(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "action", "poster", "data"):
                self.refs.append((tag, name, value or ""))
            if name == "id" and value:
                self.ids.append(value)


def with_diagnostics(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 result given what version 2 records per run: a confusion matrix consistent
    with its per-class recall, calibration bins and a training history."""
    for k, run in enumerate(data["runs"]):
        support = [c["support"] for c in run["per_class"]]
        right = [round(c["recall"] * s) for c, s in zip(run["per_class"], support)]
        n = len(support)
        run["confusion"] = [[right[i] if i == j else (s - right[i] if j == (i + 1) % n else 0)
                             for j in range(n)] for i, s in enumerate(support)]
        count = [0] * 12 + [2, 3, sum(support) - 5]
        run["calibration"] = {"count": count,
                              "confidence": [None] * 12 + [0.85, 0.9, 0.98],
                              "accuracy": [None] * 12 + [0.5, 1.0, 0.97]}
        epochs = run["train"]["epochs_run"]
        run["train"]["history"] = {"loss": [1.0 / (e + 1 + k % 3) for e in range(epochs)]}
    return data


@pytest.fixture(scope="module")
def result():
    return parse_result(with_diagnostics(json.loads(V1_FILE.read_text())), "full.json")


@pytest.fixture(scope="module")
def page(result):
    return Html().suite(result)


def _section(text: str, anchor: str) -> str:
    start = text.index(f'<section id="{anchor}"')
    return text[start:text.index("</section>", start)]


def test_the_page_parses_and_loads_nothing_from_anywhere(page):
    parsed = Page(page)
    assert parsed.tags.count("svg") > 0 and "script" not in parsed.tags and "link" not in parsed.tags
    for tag, name, value in parsed.refs:
        assert value.startswith(("#", "data:image/png;base64,")), (tag, name, value[:60])
    lowered = page.lower()
    for forbidden in ("@import", "@font-face", "url(http", "url(//", "<iframe", "<object", "<embed"):
        assert forbidden not in lowered
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", lowered)
    assert "<!doctype svg" not in lowered and "<?xml" not in lowered  # no DTD URL from matplotlib
    # Inline SVGs share one document: their ids (clip paths, markers) must not collide.
    assert len(parsed.ids) == len(set(parsed.ids))


def test_every_section_is_there_with_one_plot_per_chart(result, page):
    for anchor in ("overview", "cross-dataset", "failures", "losses"):
        assert f'<section id="{anchor}"' in page and f'href="#{anchor}"' in page
    for info in result.datasets:
        section = _section(page, f"ds-{info.name}")
        labels = {r.label for r in result.summary if r.dataset == info.name}
        learners = {r.label for r in result.runs if r.dataset == info.name and r.train.learned}
        # recall and F1 bars; per treatment a confusion matrix, a reliability diagram and a
        # learning curve; one learned-parameter chart per treatment that learns one.
        assert section.count("<svg") == 2 + 3 * len(labels) + len(learners)
        for heading in ("Per-class recall and F1", "Confusion matrices", "Calibration", "Training",
                        "Learned loss parameters"):
            assert f">{heading}</h3>" in section
        assert "mean ± std over" in section and "per-class recall / F1" in section
        assert "ECE " in section  # each reliability diagram's title carries its ECE
    overview = _section(page, "overview")
    for fact in ("holdout", "dflbench 0.1.0", result.created, "torch", "seeds"):
        assert fact in overview


def test_the_best_cell_of_each_column_is_marked_by_the_one_rule(result, page):
    from dflbench.report.suite_view import build_suite_view

    view = build_suite_view(result).datasets[0]
    marked = [cell.text for row in view.summary.rows for cell in row if cell.best]
    section = _section(page, f"ds-{view.name}")
    table = section[:section.index("</table>")]
    assert marked and re.findall(r'class="num best"><strong>([^<]*)</strong>', table) == marked


def test_two_renders_are_byte_identical_even_in_other_processes(tmp_path: Path, result, page):
    assert Html().suite(result) == page
    path = tmp_path / "r.json"
    path.write_text(json.dumps(with_diagnostics(json.loads(V1_FILE.read_text()))))
    code = ("import sys; from dflbench.cli import main; main(['show', sys.argv[1], '--format', "
            "'html'])")
    outs = [subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=True,
                           cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed,
                                          "PATH": ""}).stdout
            for seed in ("1", "2")]
    assert outs[0] == outs[1] == page.encode()


def test_a_version_1_file_renders_what_it_holds_and_says_what_is_missing():
    old = load_result(V1_FILE)
    page = Html().suite(old)
    Page(page)
    for info in old.datasets:
        section = _section(page, f"ds-{info.name}")
        # What a version-1 file holds: the per-class bars and DFL-learnable's γ trajectory.
        learners = {r.label for r in old.runs if r.dataset == info.name and r.train.learned}
        assert section.count("<svg") == 2 + len(learners) == 3
        assert (f"Not in this result for {info.name}: confusion matrices, calibration bins, "
                "training history.") in section
    assert "Files written before dflbench 0.2 do not hold them" in _section(page, "overview")


def test_diverged_and_failed_runs_are_listed_with_their_reasons(result):
    runs = list(result.runs)
    runs[0] = replace(runs[0], status=RunStatus.DIVERGED, metrics={}, per_class=(), confusion=None,
                      calibration=None, error="training loss became non-finite in epoch 2")
    runs[1] = replace(runs[1], status=RunStatus.FAILED, metrics={}, per_class=(), confusion=None,
                      calibration=None, error="sampler 'smote' <cannot> resample")
    page = Html().suite(replace(result, runs=runs))
    failures = _section(page, "failures")
    assert "training loss became non-finite in epoch 2" in failures and "diverged" in failures
    assert "sampler &#39;smote&#39; &lt;cannot&gt; resample" in failures  # escaped, not markup
    assert "Every run finished." in _section(Html().suite(result), "failures")


def test_fewer_than_two_datasets_say_the_cross_dataset_part_needs_two(result):
    one = replace(result, datasets=result.datasets[:1])
    cross = _section(Html().suite(one), "cross-dataset")
    assert "needs at least two datasets; this report holds 1" in cross and "<svg" not in cross


def _scipy_ranker(m: MeansMatrix) -> RankSummary:
    """Average ranks from scipy (ties share their mean rank) and a fixed critical difference:
    a stand-in for dflbench's cross-dataset statistics."""
    values = np.array(m.means, dtype=float)
    ranks = np.array([rankdata(-row if m.higher_is_better else row) for row in values])
    return RankSummary(dict(zip(m.treatments, ranks.mean(axis=0).tolist())), 1.5,
                       (tuple(m.treatments),), verdict=f"verdict on {m.metric}")


class _Ranked(Html):
    ranker = staticmethod(_scipy_ranker)


def test_a_ranker_gives_the_rank_table_the_cd_diagram_and_the_verdict(result):
    cross = _section(_Ranked().suite(result), "cross-dataset")
    assert cross.count("<svg") == 1 and "CD = 1.50" in cross
    assert "verdict on macro_f1" in cross
    matrix = means_matrices([result], ["macro_f1"])[0]
    for t, rank in _scipy_ranker(matrix).average_ranks.items():
        assert re.search(rf"<td>{t}</td><td class=\"num[ a-z]*\">(<strong>)?{rank:.2f}", cross)
    without = _section(type("Unranked", (Html,), {"ranker": None})().suite(result), "cross-dataset")
    assert "<svg" not in without and "cross-dataset statistics" in without


def test_the_means_matrix_holds_each_summary_mean(result):
    (m,) = means_matrices([result], ["ece"])
    assert m.higher_is_better is False and m.datasets == ("wine", "iris")
    for row in result.summary:
        assert m.means[m.datasets.index(row.dataset)][m.treatments.index(row.label)] == \
            row.metrics["ece"].mean


def _info(names: list[str], train: list[int]) -> DatasetInfo:
    counts = {"train": dict(zip(names, train)), "test": dict.fromkeys(names, 10)}
    return DatasetInfo("d", "synthetic", "", sum(train), 2, len(names), tuple(names), counts,
                       max(train) / min(train), names[int(np.argmin(train))])


def _row(label: str, names: list[str], recall: list[float]) -> SummaryRow:
    per_class = tuple(ClassSummary(n, Stat(r, 0.0), Stat(r / 2, 0.0)) for n, r in zip(names, recall))
    return SummaryRow("d", Treatment(label, label, label), 1, 1, {"ece": Stat(0.1, 0.01)}, per_class)


def test_classes_are_ordered_majority_first_and_grouped_beyond_the_limit():
    names = [f"c{i}" for i in range(3)]
    info = _info(names, [5, 50, 20])
    charts = dataset_charts(_suite(info, [_row("ce", names, [0.1, 0.9, 0.5])]), info,
                            [_row("ce", names, [0.1, 0.9, 0.5])])
    assert charts.bars.classes == ["c1", "c2", "c0"] and charts.bars.recall == [[0.9, 0.5, 0.1]]
    assert charts.bars.train_counts == ["50", "20", "5"]
    many = [f"k{i}" for i in range(GROUP_ABOVE + 3)]  # 15 classes: thirds of 5
    info = _info(many, [100 - i for i in range(len(many))])
    recall = [i / 20 for i in range(len(many))]
    row = _row("ce", many, recall)
    bars = dataset_charts(_suite(info, [row]), info, [row]).bars
    assert bars.grouped and [c.split(" ")[0] for c in bars.classes] == ["many", "medium", "few"]
    assert bars.recall[0] == pytest.approx([np.mean(recall[0:5]), np.mean(recall[5:10]),
                                            np.mean(recall[10:15])])
    assert bars.train_counts == ["96–100", "91–95", "86–90"]


def _suite(info: DatasetInfo, rows: list[SummaryRow], runs: list[RunRecord] | None = None):
    from dflbench.results import SuiteResult

    return SuiteResult({"name": "t"}, {}, datasets=[info], runs=runs or [], summary=rows,
                       created="2026-01-01T00:00:00Z")


def _run(seed: int, confusion, calibration=None, **fields) -> RunRecord:
    return RunRecord("d", Treatment("ce", "ce", "ce"), seed, RunStatus.OK, confusion=confusion,
                     calibration=calibration, **fields)


def test_confusion_matrices_are_summed_over_runs_then_row_normalised_majority_first():
    names = ["a", "b"]
    info = _info(names, [5, 50])  # b is the majority class: it comes first
    runs = [_run(0, ((3, 1), (0, 4))), _run(1, ((1, 3), (2, 2)))]
    (cm,) = dataset_charts(_suite(info, [_row("ce", names, [0.5, 0.5])], runs), info,
                           [_row("ce", names, [0.5, 0.5])]).confusion
    assert cm.classes == ["b", "a"] and cm.n_runs == 2
    # summed: a→(4, 4), b→(2, 6); in b-first order and row-normalised:
    assert cm.rows == [[6 / 8, 2 / 8], [4 / 8, 4 / 8]]


def test_reliability_bins_are_pooled_over_runs_weighted_by_rows():
    names = ["a", "b"]
    info = _info(names, [5, 50])
    bins = [Calibration((0, 2, 2), (None, 0.6, 0.9), (None, 0.5, 1.0)),
            Calibration((0, 6, 0), (None, 0.7, None), (None, 1.0, None))]
    runs = [_run(s, ((1, 0), (0, 1)), b) for s, b in enumerate(bins)]
    row = _row("ce", names, [1.0, 1.0])
    (rel,) = dataset_charts(_suite(info, [row], runs), info, [row]).reliability
    assert rel.count == [0, 8, 2] and rel.accuracy[0] is None and rel.ece == Stat(0.1, 0.01)
    assert rel.confidence[1] == pytest.approx((2 * 0.6 + 6 * 0.7) / 8)
    assert rel.accuracy[1] == pytest.approx((2 * 0.5 + 6 * 1.0) / 8) and rel.accuracy[2] == 1.0


def test_a_tuned_treatment_gets_its_grid_chart_and_an_untuned_one_none(result):
    grid = [{"gamma": 1.0, "alpha": 0.25}, {"gamma": 2.0, "alpha": 0.25}, {"gamma": 3.0, "alpha": 0.25}]
    runs = [r if r.label != "ce" else replace(r, tuning=TuningRecord(
        "macro_f1", tuple(grid), (0.5, 0.7 + 0.01 * r.seed, 0.6), grid[1])) for r in result.runs]
    tuned = replace(result, runs=runs)
    info = tuned.datasets[0]
    charts = dataset_charts(tuned, info, [r for r in tuned.summary if r.dataset == info.name])
    (t,) = charts.tuning
    assert t.treatment == "ce" and t.points == ["gamma=1.0", "gamma=2.0", "gamma=3.0"]
    assert t.scores[1] == pytest.approx([0.7, 0.71]) and t.chosen == [0, 2, 0]
    section = _section(Html().suite(tuned), f"ds-{info.name}")
    assert ">Tuning</h3>" in section
    assert ">Tuning</h3>" not in _section(Html().suite(result), f"ds-{info.name}")


def test_names_from_users_files_are_escaped_everywhere(result):
    bad = "<script>x</script> $5 & co"
    info = result.datasets[0]
    renamed = [bad if c == info.class_names[0] else c for c in info.class_names]
    data = json.loads(json.dumps(result.to_dict()).replace(f'"{info.class_names[0]}"', json.dumps(bad)))
    page = Html().suite(parse_result(data, "bad.json"))
    parsed = Page(page)
    assert "script" not in parsed.tags and bad not in page
    assert "&lt;script&gt;x&lt;/script&gt; $5 &amp; co" in page and renamed[0] == bad


def test_learning_curves_and_validation_come_from_the_history(result):
    runs = [replace(r, train=replace(r.train, history=History((0.9, 0.5, 0.4), (0.2, 0.6, 0.5),
                                                              "macro_f1"), best_epoch=2))
            for r in result.runs]
    page = Html().suite(replace(result, runs=runs))
    section = _section(page, f"ds-{result.datasets[0].name}")
    labels = {r.label for r in result.summary if r.dataset == result.datasets[0].name}
    assert "Validation macro-F1 per epoch" in section
    assert section.count("<svg") == 2 + 4 * len(labels) + 1


def test_the_html_format_serves_show_and_refuses_comparisons():
    from dflbench.report import check_format

    assert isinstance(renderer("html"), Html)
    with pytest.raises(ConfigError, match="--format html does not apply to compare"):
        check_format("html", "comparison")


def test_files_sharing_a_dataset_are_refused(result):
    with pytest.raises(ConfigError, match="dataset 'wine' is also in a.json"):
        Html().report([("a.json", result), ("b.json", result)])
