"""The verdict in plain words: who ranks first, which differences are significant, which are
practically equivalent, and what the data cannot tell (docs/statistics.md, "Reading the
verdict")."""

from __future__ import annotations

from dflbench.ranking.frequentist import smallest_wilcoxon_p
from dflbench.ranking.model import MetricRanking, PairTest

#: A Bayesian probability at least this high is a decision (Benavoli et al., JMLR 2017, §5).
DECISION = 0.95
#: Up to this many datasets the tests have little power and their p-values are approximations
#: (Demšar 2006, §3.2.2: Friedman's χ² wants more than 10 datasets and 5 treatments).
FEW_DATASETS = 10
#: Pairs named per line before "and N more".
_LISTED = 4


def fmt_p(p: float | None) -> str:
    """A p-value as reports show it: three decimals, ``<0.001`` below that, ``n/a`` for none."""
    if p is None:
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def p_is(p: float | None) -> str:
    """``p = 0.521`` / ``p < 0.001`` / ``p n/a``, for sentences."""
    if p is None:
        return "p n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _listing(items: list[str]) -> str:
    more = len(items) - _LISTED
    return "; ".join(items[:_LISTED]) + (f"; and {more} more" if more > 0 else "")


def verdict_lines(m: MetricRanking, alpha: float, baseline: str | None) -> list[str]:
    """A few sentences about one metric's ranking (``m`` fully computed)."""
    if not m.datasets or len(m.treatments) < 2:
        why = ("no loss has a value" if not m.treatments else
               f"only one loss, {m.treatments[0]}" if len(m.treatments) == 1 else
               "every dataset lacks a value for some loss")
        return [f"{m.title}: nothing to rank ({why})."]
    lines = [_headline(m), _friedman_line(m, alpha)]
    lines += _pairwise_lines(m, alpha)
    if m.critical_difference is not None and len(m.treatments) >= 3:
        lines.append(_nemenyi_line(m, alpha))
    lines += _limits(m, alpha, baseline)
    if m.left_out:
        lines.append(f"Left out ({len(m.left_out)} dataset{'s' if len(m.left_out) != 1 else ''} "
                     f"where a loss has no value): {', '.join(m.left_out)}.")
    return lines


def _headline(m: MetricRanking) -> str:
    ranks = m.average_ranks
    best = min(ranks.values())
    first = [t for t in m.treatments if ranks[t] == best]
    k, n = len(m.treatments), m.n_datasets
    better = "higher" if m.higher_is_better else "lower"
    where = f"{m.title} ({better} is better) over {n} dataset{'s' if n != 1 else ''}, {k} losses"
    if len(first) == 1:
        lead = f"{first[0]} ranks first (average rank {best:.2f} of {k})"
    elif len(first) == k:
        lead = f"all {k} losses tie (average rank {best:.2f})"
    else:
        names = ", ".join(first[:-1]) + f" and {first[-1]}"
        lead = f"{names} share first place (average rank {best:.2f} of {k})"
    worst = max(ranks.values())
    last = [t for t in m.treatments if ranks[t] == worst]
    if k >= 3 and len(last) == 1:
        lead += f", {last[0]} last ({worst:.2f})"
    return f"{where}: {lead}."


def _friedman_line(m: MetricRanking, alpha: float) -> str:
    fr, idv = m.friedman, m.iman_davenport
    if fr.p_value is None:
        return f"Friedman test skipped: {fr.note}."
    text = f"Friedman {p_is(fr.p_value)}, Iman–Davenport {p_is(idv.p_value)}"
    decided = idv.p_value if idv.p_value is not None else fr.p_value
    if decided < alpha:
        return f"{text}: the losses do not all perform alike (α = {alpha:g})."
    return f"{text}: no difference among the losses is detectable at α = {alpha:g}."


def _beats(p: PairTest) -> str:
    winner, loser = (p.a, p.b) if p.favours_a else (p.b, p.a)
    wins, losses = (p.wins, p.losses) if p.favours_a else (p.losses, p.wins)
    return (f"{winner} beats {loser} ({wins} wins, {p.ties} ties, {losses} losses; "
            f"Holm {p_is(p.p_holm)})")


def _pairwise_lines(m: MetricRanking, alpha: float) -> list[str]:
    if not m.pairwise:
        return []
    sig = [p for p in m.pairwise if p.p_holm is not None and p.p_holm < alpha]
    raw = [p for p in m.pairwise if p.p_value is not None and p.p_value < alpha]
    if sig:
        lines = [f"Significant after Holm's correction (α = {alpha:g}): "
                 f"{_listing([_beats(p) for p in sig])}."]
    elif raw:
        items = [f"{p.a} vs {p.b} {p_is(p.p_value)} → {fmt_p(p.p_holm)}" for p in raw]
        lines = [f"No pairwise difference is significant after Holm's correction over "
                 f"{len(m.pairwise)} pairs (before it: {_listing(items)})."]
    else:
        lines = [f"No pairwise difference is significant (Wilcoxon signed-rank, α = {alpha:g})."]
    return [*lines, _bayes_line(m)]


def _bayes_line(m: MetricRanking) -> str:
    rope = m.pairwise[0].bayes.rope if m.pairwise[0].bayes else 0.0
    equal, better = [], []
    for p in m.pairwise:
        b = p.bayes
        if b is None:
            continue
        if b.p_equivalent >= DECISION:
            equal.append(f"{p.a} ≈ {p.b} ({b.p_equivalent:.2f})")
        elif max(b.p_a, b.p_b) >= DECISION:
            winner, loser, prob = (p.a, p.b, b.p_a) if b.p_a >= b.p_b else (p.b, p.a, b.p_b)
            better.append(f"{winner} over {loser} ({prob:.2f})")
    head = f"Bayesian signed-rank (ROPE ±{rope:g})"
    if not equal and not better:
        return (f"{head}: no pair is practically equivalent or practically better with "
                f"probability ≥ {DECISION:g}.")
    parts = []
    if equal:
        parts.append(f"practically equivalent: {_listing(equal)}")
    if better:
        parts.append(f"better by more than the ROPE: {_listing(better)}")
    return f"{head}, probability ≥ {DECISION:g}: " + "; ".join(parts) + "."


def _nemenyi_line(m: MetricRanking, alpha: float) -> str:
    cd = f"Nemenyi CD = {m.critical_difference:.2f} (α = {alpha:g})"
    if not m.groups:
        return f"{cd}: every pair of average ranks is further apart than that."
    if m.groups == [sorted(m.treatments, key=lambda t: m.average_ranks[t])]:
        return f"{cd}: it cannot separate any two of the {len(m.treatments)} losses."
    groups = " and ".join("{" + ", ".join(g) + "}" for g in m.groups)
    return f"{cd}: it cannot separate {groups}."


def _limits(m: MetricRanking, alpha: float, baseline: str | None) -> list[str]:
    """What these datasets cannot tell, whatever the results."""
    n, k, pairs = m.n_datasets, len(m.treatments), len(m.pairwise)
    lines = []
    smallest = smallest_wilcoxon_p(n)
    if pairs and pairs * smallest >= alpha:
        text = (f"With {n} dataset{'s' if n != 1 else ''} no Wilcoxon p can fall below "
                f"{fmt_p(smallest)} "
                + (f"({fmt_p(min(1.0, pairs * smallest))} after Holm over {pairs} pairs), "
                   if pairs > 1 else "")
                + f"so no pair can be significant at α = {alpha:g}")
        if baseline is None and pairs > k - 1 and (k - 1) * smallest < alpha:
            text += f"; 'dflbench rank --baseline' tests {k - 1} pairs instead of {pairs}"
        lines.append(text + "; more datasets are needed.")
    if n <= FEW_DATASETS:
        lines.append(f"With {n} datasets (≤ {FEW_DATASETS}) the tests have little power and their "
                     "p-values are approximations: a non-significant result is not evidence that "
                     "the losses are equivalent, and the Bayesian probabilities rest on these "
                     f"{n} datasets too.")
    return lines
