"""The rank view: the means table's marks, the text critical-difference diagram, and the verdict
section of suite reports (lines every metric shares said once)."""

from __future__ import annotations

import numpy as np

from dflbench.ranking import rank_results
from dflbench.report.rank_view import cd_diagram, means_table, verdict_view
from dflbench.results import parse_result
from tests.unit.test_ranking import TREATMENTS, grid, matrix


def _ranking(values: np.ndarray, metrics=("macro_f1", "ece")):
    return rank_results([("r.json", parse_result(grid(values)))], list(metrics))


def test_means_table_marks_each_datasets_best_and_the_best_average_rank():
    values = matrix(n=6, seed=2)
    m = _ranking(values).metrics["ece"]  # lower is better: the best ECE is the highest value here
    table = means_table(m)
    assert table.columns == ["Dataset", *TREATMENTS] and len(table.rows) == 7
    for i, row in enumerate(table.rows[:6]):
        best = [c.best for c in row[1:]]
        assert best == (values[i] == values[i].max()).tolist()
        assert row[1].text == f"{1 - values[i, 0]:.3f} ({m.ranks[f'd{i}']['ce']:g})"
    average = table.rows[-1]
    assert average[0].text == "average rank"
    lowest = min(m.average_ranks.values())
    assert [c.best for c in average[1:]] == [m.average_ranks[t] == lowest for t in TREATMENTS]


def test_cd_diagram_places_each_loss_at_its_average_rank_and_bars_the_groups():
    m = _ranking(matrix(n=10, seed=8)).metrics["macro_f1"]
    lines = cd_diagram(m, width=40)
    axis = lines[1]
    start, end = axis.index("├"), axis.rindex("┤")
    assert end - start == 40
    step = 40 / (len(TREATMENTS) - 1)
    for t in TREATMENTS:
        line = next(x for x in lines[3:] if x.startswith(f"{t} "))
        assert line.index("●") - start == round((m.average_ranks[t] - 1) * step)
    cd_line = lines[2]
    assert cd_line.rindex("┤") - start == min(40, round(m.critical_difference * step))
    bars = [x for x in lines if "━" in x]
    assert len(bars) == len(m.groups)
    for bar, group in zip(bars, m.groups):
        assert bar.index("━") - start == round((m.average_ranks[group[0]] - 1) * step)


def test_verdict_view_says_shared_lines_once_and_skips_one_dataset():
    view = verdict_view(_ranking(matrix(n=5, seed=1), metrics=("macro_f1", "gmean", "ece")))
    assert [title for title, _ in view.sections] == ["MacroF1", "G-mean", "ECE"]
    assert any("no Wilcoxon p can fall below" in line for line in view.common)
    assert not any("no Wilcoxon p can fall below" in line for _, lines in view.sections for line in lines)
    assert view.ranks is not None and view.ranks.columns == ["Loss", "MacroF1", "G-mean", "ECE"]
    single = verdict_view(_ranking(matrix(n=1)))
    assert single.ranks is None
    assert single.sections[0][1] == ["This result holds one dataset (d0): ranks and tests across "
                                     "datasets need at least two."]
