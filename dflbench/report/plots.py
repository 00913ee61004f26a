"""The HTML report's charts: matplotlib figures written as inline SVG, byte for byte the same for
the same data.

Determinism and self-containment: fixed rcParams (the DejaVu Sans metrics matplotlib ships, so text
is laid out alike on every machine), no date or creator metadata, and ``svg.hashsalt`` set per chart
so the ids of clip paths and markers are stable and unique within the page. Text stays text
(``svg.fonttype: none``; the page's CSS picks the font) and math parsing is off, so a class named
``$5`` is drawn as written. The SVG is trimmed before inlining: no XML prolog (its DTD is a URL),
no metadata, no global style rule, no unreferenced ids, coordinates to 0.01 pt.

Colours: the Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008), distinguishable
with the common colour-vision deficiencies; beyond eight treatments bars add hatching and lines
add markers. Heat maps use cividis (Nuñez, Anderton & Renslow, PLOS ONE 2018).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from dflbench.report.html_view import ClassBars, Confusion, Curves, RankSummary, Reliability, Tuning

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
HATCHES = ("", "///", "\\\\\\", "xxx")  # line hatches: dotted ones weigh ~50 kB each in SVG
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: Above this many classes a confusion matrix is drawn as an image, without numbers in its cells.
ANNOTATE_UP_TO = 12
PANEL = (3.6, 2.8)  # inches: one small-multiple panel

RC: dict[str, Any] = {
    "svg.fonttype": "none", "text.parse_math": False, "text.usetex": False,
    "font.family": "sans-serif", "font.sans-serif": ["DejaVu Sans"], "font.size": 10,
    "axes.titlesize": 10.5, "axes.labelsize": 9.5, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "legend.fontsize": 9, "axes.spines.top": False, "axes.spines.right": False,
    "axes.grid": True, "axes.grid.axis": "y", "grid.color": "#dddddd", "grid.linewidth": 0.6, "axes.axisbelow": True,
    "figure.dpi": 72, "savefig.dpi": 72, "path.simplify": True, "image.composite_image": True,
}


def colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def hatch(i: int) -> str:
    return HATCHES[(i // len(OKABE_ITO)) % len(HATCHES)]


@contextmanager
def _figure(salt: str, size: tuple[float, float]) -> Iterator[Any]:
    """A figure with fixed settings; ``salt`` makes its SVG ids unique within the page. Axes are
    placed by :func:`_axes` at fixed margins: a layout engine would double the drawing time."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context({**RC, "svg.hashsalt": salt}):
        yield Figure(figsize=size)


def _axes(fig: Any, left: float, right: float, bottom: float, top: float, **kw: Any) -> Any:
    """Axes whose margins to the figure's edges are given in inches."""
    w, h = fig.get_size_inches()
    return fig.add_axes((left / w, bottom / h, 1 - (left + right) / w, 1 - (bottom + top) / h), **kw)


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                             "Type": None})
    return trim_svg(buf.getvalue())


def trim_svg(text: str) -> str:
    """Matplotlib's SVG made fit to inline: see the module docstring."""
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'<style type="text/css">.*?</style>', "", text, flags=re.S)
    text = re.sub(r"font-family: [^;\"]*;? ?", "", text)
    text = text.replace("; \"", "\"").replace(' style=""', "")
    text = re.sub(r' transform="rotate\(-0 [^)]*\)"', "", text)
    used = set(re.findall(r'(?:url\(#|href="#)([^)"]+)', text))
    text = re.sub(r' id="([^"]*)"', lambda m: m.group(0) if m.group(1) in used else "", text)
    text = re.sub(r'\s(?:d|x|y|width|height|viewBox|transform)="[^"]*"',
                  lambda m: re.sub(r"(\.\d\d)\d+", r"\1", m.group(0)), text)
    text = re.sub(r"\s*\n\s*", "\n", text)
    text = re.sub(r' d="[^"]*"', lambda m: m.group(0).replace("\n", " ").replace(' "', '"'), text)
    return re.sub(r"<defs>\s*</defs>\s*", "", _unwrap_groups(text))


def _unwrap_groups(text: str) -> str:
    """Drop the ``<g>`` elements without attributes (left bare once unused ids are gone), keeping
    their content."""
    out, stack, last = [], [], 0
    for m in re.finditer(r"<g>\n?|<g\s[^>]*>|</g>\n?", text):
        out.append(text[last:m.start()])
        last = m.end()
        tag = m.group(0)
        if tag.startswith("</g>"):
            if stack.pop():
                out.append(tag)
        else:
            bare = tag.strip() == "<g>"
            stack.append(not bare)
            if not bare:
                out.append(tag)
    out.append(text[last:])
    return "".join(out)


def _title(ax: Any, text: str) -> None:
    """An axes title at a fixed place (matplotlib's automatic placement measures every tick
    label of the axes again)."""
    ax.set_title(text, y=1.0, pad=5)


def _short(label: str, limit: int = 14) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _text_width(labels: Sequence[str], size: float = 9.0) -> float:
    """About how wide the longest label is, in inches (DejaVu Sans averages 0.6 em a glyph)."""
    return max((len(s) for s in labels), default=0) * size * 0.6 / 72


def _bars(ax: Any, xs: Sequence[float], lows: Sequence[float], highs: Sequence[float | None],
          width: float, **style: Any) -> None:
    """Bars from ``lows`` to ``highs`` centred on ``xs`` (None: no bar) as one collection: a
    patch per bar, as ``Axes.bar`` draws them, costs more than the rest of a chart."""
    from matplotlib.collections import PolyCollection

    boxes = [[(x - width / 2, lo), (x - width / 2, hi), (x + width / 2, hi), (x + width / 2, lo)]
             for x, lo, hi in zip(xs, lows, highs) if hi is not None]
    ax.add_collection(PolyCollection(boxes, **style), autolim=False)


def class_bars(bars: ClassBars, what: str, salt: str) -> str:
    """Grouped bars of ``what`` (``recall`` or ``f1``): one group per class (or class group),
    majority first; one bar per treatment, with the standard deviation over runs."""
    values, spread = (bars.recall, bars.recall_std) if what == "recall" else (bars.f1, bars.f1_std)
    n_t, n_c = len(bars.treatments), len(bars.classes)
    width = 0.8 / max(n_t, 1)
    names = [_short(c) for c in bars.classes]
    fig_width = min(max(5.5, 0.2 * n_t * n_c + 1.5), 11.0)
    rotate = _text_width(names) > 0.9 * (fig_width - 0.75) / n_c
    bottom = 0.55 + (_text_width(names) * 0.6 + 0.15 if rotate else 0.3)
    entries = [_text_width([t]) + 0.45 for t in bars.treatments]  # swatch, gap and text, inches
    fit = max((k for k in range(1, n_t + 1) if sum(sorted(entries)[-k:]) <= fig_width - 0.3),
              default=1)
    legend_rows = -(-n_t // fit)
    cols = -(-n_t // legend_rows)  # rows as even as they can be
    from matplotlib.collections import LineCollection

    with _figure(salt, (fig_width, 2.4 + bottom + 0.22 * legend_rows)) as fig:
        ax = _axes(fig, 0.6, 0.15, bottom, 0.3 + 0.22 * legend_rows)
        for t, label in enumerate(bars.treatments):
            xs = [c + (t - (n_t - 1) / 2) * width for c in range(n_c)]
            _bars(ax, xs, [0.0] * n_c, values[t], width, label=label, facecolor=colour(t),
                  hatch=hatch(t), edgecolor="white", linewidth=0.4)
            whiskers = [[(x, v - s), (x, v + s)] for x, v, s in zip(xs, values[t], spread[t])
                        if v is not None and s]
            if whiskers:
                ax.add_collection(LineCollection(whiskers, colors="#444444", linewidths=0.7))
        ax.set_xticks(range(n_c), [f"{c}\n{n}" for c, n in zip(names, bars.train_counts)],
                      rotation=35 if rotate else 0, ha="right" if rotate else "center",
                      rotation_mode="anchor" if rotate else "default")
        ax.set_xlim(-0.5, n_c - 0.5)
        ax.set_ylim(0, 1.02)
        pixels = bars.unit == "pixels"
        ax.set_ylabel("recall" if what == "recall" else "Dice (F1)" if pixels else "F1")
        ax.set_xlabel(f"class and its training {bars.unit}, majority → minority")
        ax.grid(axis="x", visible=False)
        handles, labels = ax.get_legend_handles_labels()
        # Legends fill column by column; this order reads row by row, in the treatments' order.
        order = [i * cols + j for j in range(cols) for i in range(legend_rows) if i * cols + j < n_t]
        fig.legend([handles[k] for k in order], [labels[k] for k in order], loc="upper center",
                   ncols=cols, frameon=False, borderaxespad=0.2, handlelength=1.2,
                   columnspacing=1.0)
        return _svg(fig)


def confusion(matrix: Confusion, salt: str) -> str:
    """A row-normalised confusion matrix, drawn as an image at one pixel per cell (the page
    scales it without smoothing); shares written in the cells up to ANNOTATE_UP_TO classes,
    a colour bar beyond."""
    n = len(matrix.classes)
    names = [_short(c, 10) for c in matrix.classes] if n <= 20 else []
    size = min(2.3 + 0.12 * max(0, n - 5), 3.4)
    rotate = bool(names) and _text_width(names) > 0.9 * size / n
    side = _text_width(names) + 0.55
    bottom = 0.45 + (_text_width(names) * 0.72 if rotate else 0.2 if names else 0.0)
    bar = n > ANNOTATE_UP_TO
    right = 0.8 if bar else 0.15
    with _figure(salt, (side + size + right, bottom + size + 0.3)) as fig:
        ax = _axes(fig, side, right, bottom, 0.3)
        image = ax.imshow(matrix.rows, cmap="cividis", vmin=0.0, vmax=1.0, interpolation="none",
                          aspect="auto")
        ax.grid(False)
        if bar:
            fig.colorbar(image, cax=_axes(fig, side + size + 0.12, 0.5, bottom, 0.3))
        else:
            _cell_numbers(ax, matrix.rows)
        ticks = range(n) if names else []
        ax.set_xticks(ticks, names, rotation=45 if rotate else 0, ha="right" if rotate else "center",
                      rotation_mode="anchor" if rotate else "default")
        ax.set_yticks(ticks, names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        _title(ax, _short(matrix.treatment, 30))
        return _svg(fig)


def _cell_numbers(ax: Any, rows: list[list[float]]) -> None:
    """Each cell's share; above five classes in a smaller font, as ``.87``, empty cells blank."""
    small = len(rows) > 5
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            text = f"{v:.2f}"
            if small:
                if text == "0.00":
                    continue
                text = text[1:] if text.startswith("0") else text[0]
            ax.text(j, i, text, ha="center", va="center", fontsize=6.5 if small else 9,
                    color="white" if v < 0.55 else "black")


def reliability(rel: Reliability, i: int, salt: str) -> str:
    """A reliability diagram (Guo et al., ICML 2017): accuracy per confidence bin (bars) against
    the bin's mean confidence (black dash) and the diagonal of perfect calibration; below it,
    the share of rows per bin."""
    from matplotlib.collections import LineCollection

    n = len(rel.count)
    total = sum(rel.count) or 1
    used = [b for b in range(n) if rel.count[b]]
    centres = [(b + 0.5) / n for b in used]
    with _figure(salt, (PANEL[0], PANEL[1] + 0.45)) as fig:
        ax = _axes(fig, 0.6, 0.12, 1.05, 0.3)
        hist = _axes(fig, 0.6, 0.12, 0.5, PANEL[1] + 0.45 - 0.9)
        ax.grid(False)
        acc = [rel.accuracy[b] for b in used]
        conf = [rel.confidence[b] for b in used]
        _bars(ax, centres, [0.0] * len(used), acc, 1 / n, label="accuracy", facecolor=colour(i),
              edgecolor="white", linewidth=0.4)
        ax.add_collection(LineCollection(
            [[(x - 0.5 / n, c), (x + 0.5 / n, c)] for x, c in zip(centres, conf)],
            colors="black", linewidths=1.6, label="mean confidence"))
        ax.plot([0, 1], [0, 1], linestyle="--", color="#333333", linewidth=0.8)
        ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xticks(ticks, [])
        ax.set_yticks(ticks)
        ax.set_ylabel("accuracy")
        ece = rel.ece
        text = "—" if ece is None or ece.mean is None else (
            f"{ece.mean:.3f}" + ("" if ece.std is None else f" ± {ece.std:.3f}"))
        _title(ax, f"{_short(rel.treatment, 22)} · ECE {text}")
        ax.legend(loc="upper left", frameon=False, fontsize=8, handlelength=1.2)
        _bars(hist, centres, [0.0] * len(used), [rel.count[b] / total for b in used], 1 / n,
              facecolor="#888888")
        hist.grid(False)
        hist.set_xlim(0, 1)
        hist.set_xticks(ticks)
        hist.set_ylim(0, 1)
        hist.set_yticks([0, 1], ["0", "1"])
        hist.set_ylabel("rows", rotation=0, ha="right", va="center")
        hist.set_xlabel("confidence (maximum probability)")
        return _svg(fig)


def curves(c: Curves, i: int, ylabel: str, salt: str, title: str = "") -> str:
    """One treatment's per-epoch series, one line per run; best epochs marked when given."""
    from matplotlib.ticker import MaxNLocator

    with _figure(salt, PANEL) as fig:
        ax = _axes(fig, 0.7, 0.12, 0.5, 0.3)
        longest = max((len(v) for _, v in c.runs), default=0)
        for k, (_, values) in enumerate(c.runs):
            ys = [math.nan if v is None else v for v in values]
            ax.plot(range(1, len(ys) + 1), ys, color=colour(i), linewidth=1.1, alpha=0.85,
                    marker=MARKERS[k % len(MARKERS)] if longest <= 15 else None, markersize=3)
            best = c.best_epochs[k] if k < len(c.best_epochs) else None
            if best is not None and 1 <= best <= len(ys):
                ax.plot([best], [ys[best - 1]], marker="o", markersize=6, markerfacecolor="none",
                        markeredgecolor="black", linestyle="none")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        values = [v for _, run in c.runs for v in run if v is not None and math.isfinite(v)]
        if values and min(values) > 0 and max(values) / min(values) > 100:
            ax.set_yscale("log")  # a loss that falls by decades: its late epochs stay visible
        else:
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        _title(ax, title or _short(c.treatment, 30))
        return _svg(fig)


def tuning(t: Tuning, i: int, salt: str) -> str:
    """A tuned treatment's validation score per grid point: each run's score as a dot, the mean
    as a line, the points runs chose starred (with how many chose each)."""
    xs = range(len(t.points))
    labels = [_short(p, 18) for p in t.points]
    rotate = len(t.points) > 4
    bottom = 0.45 + (_text_width(labels) * 0.6 if rotate else 0.0)
    with _figure(salt, (max(PANEL[0], 0.45 * len(t.points) + 1.2), PANEL[1] + bottom - 0.45)) as fig:
        ax = _axes(fig, 0.6, 0.15, bottom, 0.3)
        for x, scores in zip(xs, t.scores):
            ax.plot([x] * len(scores), scores, linestyle="none", marker="o", markersize=3,
                    color="#777777")
        means = [sum(s) / len(s) if s else math.nan for s in t.scores]
        ax.plot(list(xs), means, color=colour(i), linewidth=1.4, marker="o", markersize=4)
        for x, (k, m) in enumerate(zip(t.chosen, means)):
            if k:
                ax.plot([x], [m], marker="*", markersize=12, color="black", linestyle="none")
                ax.annotate(f"×{k}", (x, m), textcoords="offset points", xytext=(6, 4), fontsize=9)
        ax.set_xticks(list(xs), labels, rotation=35 if rotate else 0,
                      ha="right" if rotate else "center",
                      rotation_mode="anchor" if rotate else "default")
        ax.set_xlim(-0.5, len(t.points) - 0.5)
        ax.set_ylabel("validation " + (t.metric or "score"))
        _title(ax, _short(t.treatment, 30))
        return _svg(fig)


def cd_diagram(ranks: RankSummary, treatments: Sequence[str], salt: str) -> str:
    """A critical-difference diagram (Demšar, JMLR 2006): treatments on the axis of average rank
    (1 = best, at the left), joined by a bar where the test cannot separate them; the critical
    difference drawn above the axis."""
    order = sorted((t for t in treatments if t in ranks.average_ranks),
                   key=lambda t: ranks.average_ranks[t])
    labels = {t: f"{_short(t, 22)} ({ranks.average_ranks[t]:.2f})" for t in order}
    k = max(len(order), 2)
    half = -(-len(order) // 2)
    groups = [g for g in ranks.groups if len(g) > 1]
    depth = 0.35 + 0.22 * len(groups) + 0.3 * half  # below the axis, in axis units
    width = 7.5
    label = _text_width(list(labels.values())) + 0.35  # inches beside the axis, each side
    per_inch = (k - 1 or 1) / (width - 2 * label)
    with _figure(salt, (width, 0.9 + depth * 0.75)) as fig:
        ax = _axes(fig, 0.0, 0.0, 0.0, 0.0)
        ax.set_xlim(1 - label * per_inch, k + label * per_inch)
        ax.set_ylim(-depth, 1.0)
        ax.axis("off")
        ax.plot([1, k], [0, 0], color="black", linewidth=1)
        for r in range(1, k + 1):
            ax.plot([r, r], [0, 0.1], color="black", linewidth=1)
            ax.text(r, 0.15, str(r), ha="center", va="bottom", fontsize=9)
        if ranks.critical_difference is not None:
            cd = ranks.critical_difference
            ax.plot([1, 1 + cd], [0.7, 0.7], color="black", linewidth=1.5)
            ax.plot([1, 1, 1 + cd, 1 + cd], [0.64, 0.76, 0.64, 0.76], color="black", linewidth=1,
                    linestyle="none", marker="|", markersize=5)
            ax.text(1 + cd / 2, 0.78, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
        for g, group in enumerate(groups):
            rs = [ranks.average_ranks[t] for t in group if t in ranks.average_ranks]
            y = -0.15 - 0.22 * g
            ax.plot([min(rs) - 0.04, max(rs) + 0.04], [y, y], color="black", linewidth=3,
                    solid_capstyle="round")
        top = -0.15 - 0.22 * len(groups)
        for j, t in enumerate(order):
            r = ranks.average_ranks[t]
            left = j < half
            y = top - 0.3 * ((j if left else len(order) - 1 - j) + 0.5)
            end = 1 - 0.2 * per_inch if left else k + 0.2 * per_inch
            ax.plot([r, r, end], [0, y, y], color=colour(list(treatments).index(t)), linewidth=1.2)
            ax.text(end - 0.05 * per_inch if left else end + 0.05 * per_inch, y, labels[t],
                    ha="right" if left else "left", va="center", fontsize=9)
        return _svg(fig)
