"""LaTeX (``--format latex``), for papers: per metric one booktabs table of datasets × losses,
mean ± std over each cell's successful runs, the best mean per dataset in bold (the one best-cell
rule, :func:`dflbench.report.cells.mark_best`) and an average-rank row; ``rank`` adds each
metric's pairwise table. Verdicts follow as comments. Needs ``\\usepackage{booktabs}``."""

from __future__ import annotations

import re
from typing import Any

from dflbench.ranking import MetricRanking, Ranking
from dflbench.ranking.verdict import fmt_p
from dflbench.report import RENDERERS, Renderer
from dflbench.report.cells import fmt_mean_std, mark_best
from dflbench.report.rank_view import MEAN_DIGITS, RANK_DIGITS, verdict_view
from dflbench.report.suite_view import suite_ranking

_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}"}


def escape(text: str) -> str:
    """``text`` safe in LaTeX's text mode."""
    return "".join(_SPECIAL.get(c, c) for c in text)


def _bold(text: str, on: bool) -> str:
    return rf"\textbf{{{text}}}" if on else text


def _table(caption: str, label: str, columns: list[str], align: str, body: list[list[str]],
           footer: list[list[str]]) -> list[str]:
    """A booktabs table: header, body, an optional footer block after a rule."""
    def row(cells: list[str]) -> str:
        return "    " + " & ".join(cells) + r" \\"

    out = [r"\begin{table}[htbp]", r"  \centering", rf"  \caption{{{caption}}}",
           rf"  \label{{{label}}}", rf"  \begin{{tabular}}{{{align}}}", r"    \toprule",
           row([escape(c) for c in columns]), r"    \midrule", *[row(r) for r in body]]
    if footer:
        out += [r"    \midrule", *[row(r) for r in footer]]
    return [*out, r"    \bottomrule", r"  \end{tabular}", r"\end{table}", ""]


def _label(metric: str, kind: str) -> str:
    return f"tab:dflbench-{kind}-" + re.sub(r"[^A-Za-z0-9]+", "-", metric)


def metric_table(m: MetricRanking) -> list[str]:
    """Datasets × losses: mean ± std, best per ranked dataset in bold, an average-rank row."""
    treatments = list(next(iter(m.cells.values()), {})) if m.cells else []
    body = []
    for dataset, row in m.cells.items():
        ranked = dataset in m.ranks
        means = [row[t].mean for t in treatments]
        best = mark_best(means, m.higher_is_better, MEAN_DIGITS) if ranked else [False] * len(means)
        cells = [_bold(fmt_mean_std(row[t].mean, row[t].std, MEAN_DIGITS).replace("±", r"$\pm$")
                       .replace("—", "--"), b) for t, b in zip(treatments, best)]
        body.append([escape(dataset) + ("" if ranked else r"$^\dagger$"), *cells])
    footer = []
    if m.average_ranks:
        ranks = [m.average_ranks.get(t) for t in treatments]
        best = mark_best(ranks, False, RANK_DIGITS)
        footer.append(["Average rank", *[_bold("--" if r is None else f"{r:.{RANK_DIGITS}f}", b)
                                         for r, b in zip(ranks, best)]])
    better = "higher" if m.higher_is_better else "lower"
    caption = (f"{escape(m.title)} ({better} is better): mean $\\pm$ std over each dataset's "
               f"runs; best per dataset in bold; average rank over {m.n_datasets} datasets "
               "(1 = best)" + ("; $^\\dagger$ left out of the ranks (a loss has no value)"
                               if m.left_out else "") + ".")
    return _table(caption, _label(m.metric, "means"), ["Dataset", *treatments],
                  "l" + "r" * len(treatments), body, footer)


def pairwise_table(m: MetricRanking, alpha: float) -> list[str]:
    """Each pair: A's wins/ties/losses, Wilcoxon p, Holm p (bold below α), Bayesian P."""
    body = []
    for p in m.pairwise:
        probs = ([f"{v:.3f}" for v in (p.bayes.p_a, p.bayes.p_equivalent, p.bayes.p_b)]
                 if p.bayes else ["--"] * 3)
        holm = fmt_p(p.p_holm).replace("<", "$<$")
        body.append([escape(p.a), escape(p.b), f"{p.wins}/{p.ties}/{p.losses}",
                     fmt_p(p.p_value).replace("<", "$<$"),
                     _bold(holm, p.p_holm is not None and p.p_holm < alpha), *probs])
    rope = m.pairwise[0].bayes.rope if m.pairwise and m.pairwise[0].bayes else 0.0
    caption = (f"{escape(m.title)}: pairs over {m.n_datasets} datasets; Wilcoxon signed-rank p, "
               f"Holm-corrected (bold: below {alpha:g}); Bayesian signed-rank probabilities "
               f"with a ROPE of $\\pm${rope:g}.")
    return _table(caption, _label(m.metric, "pairs"),
                  ["A", "B", "W/T/L", "p", "Holm p", "P(A)", "P(=)", "P(B)"], "llrrrrrr", body, [])


def _comments(lines: list[str]) -> list[str]:
    return [f"% {line}" for line in lines]


@RENDERERS.register("latex")
class Latex(Renderer):
    draws = ("suite", "ranking")

    def suite(self, result: Any) -> str:
        ranking = suite_ranking(result)
        out = _comments([f"dflbench {result.dflbench_version}: suite {result.name}, "
                         f"{result.created}; needs \\usepackage{{booktabs}}"])
        for m in ranking.metrics.values():
            out += metric_table(m)
        verdict = verdict_view(ranking)
        for _, lines in verdict.sections:
            out += [*_comments(lines), ""]
        out += _comments(verdict.common)
        return "\n".join(out).rstrip("\n") + "\n"

    def ranking(self, ranking: Ranking) -> str:
        out = _comments([f"dflbench rank: {', '.join(ranking.files)}; needs "
                         "\\usepackage{booktabs}", *ranking.notes])
        for m in ranking.metrics.values():
            out += metric_table(m)
            if m.pairwise:
                out += pairwise_table(m, ranking.alpha)
            out += [*_comments(m.verdict + m.notes), ""]
        return "\n".join(out).rstrip("\n") + "\n"
