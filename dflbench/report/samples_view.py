"""What a segmentation dataset's "Test images" show: a few test images of the first split with
their true masks and each treatment's predicted masks, selected from the typed result (the HTML
report draws them with :mod:`.masks`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dflbench.results.model import DatasetInfo, RunRecord


@dataclass(frozen=True)
class Samples:
    """The sample images (encoded as the result file holds them, :mod:`dflbench.results.pictures`)
    with their true masks, and per treatment the masks its first seed's model predicted;
    ``absent`` lists treatments without predictions (their run diverged or failed)."""

    image_shape: tuple[int, ...]
    classes: list[str]
    images: list[str]
    truth: list[str]
    predicted: list[tuple[str, list[str]]]
    absent: list[str] = field(default_factory=list)


def samples_view(info: DatasetInfo, by_label: dict[str, list[RunRecord]]) -> Samples | None:
    """The sample images of ``info`` and each treatment's predictions (``by_label``: its runs);
    None for a dataset without samples (not segmentation, or a file written before them)."""
    if info.samples is None:
        return None
    predicted, absent = [], []
    for label, group in by_label.items():
        shown = next((r.predictions for r in group if r.predictions), ())
        if shown:
            predicted.append((label, list(shown)))
        else:
            absent.append(label)
    return Samples(info.input_shape, list(info.class_names), list(info.samples["images"]),
                   list(info.samples["masks"]), predicted, absent)
