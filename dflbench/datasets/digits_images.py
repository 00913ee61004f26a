"""scikit-learn's bundled 8x8 handwritten digits as images: the smallest offline image dataset.

The same 1797 samples as ``{source: sklearn, name: digits}``, shaped (N, 1, 8, 8) for a
convolutional model instead of 64 tabular columns. Pixels are 0..16 in the original data
(counts of set bits in 4x4 blocks of a 32x32 bitmap) and are divided by 16 into [0, 1].
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits

from dflbench.datasets import SOURCES, Dataset

_PIXEL_MAX = 16.0


@SOURCES.register("digits")
def load(name: str) -> Dataset:
    """Load scikit-learn's 8x8 handwritten digits as images (N, 1, 8, 8) in [0, 1].

    The UCI optical recognition of handwritten digits data (Alpaydin & Kaynak): float32 pixels
    0..16 divided by 16, classes "0".."9". ``name`` is only the display name.
    """
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32) / np.float32(_PIXEL_MAX)
    X = np.ascontiguousarray(images[:, np.newaxis, :, :])
    y = np.asarray(bunch.target, dtype=np.int64)
    return Dataset(
        name=name,
        X=X,
        y=y,
        class_names=tuple(str(d) for d in range(10)),
        source="digits",
        kind="image",
        description="UCI optical handwritten digits as 1x8x8 images (Alpaydin & Kaynak), "
        "bundled with scikit-learn",
        meta={
            "image_shape": list(X.shape[1:]),
            "pixel_scale": _PIXEL_MAX,
            "labels": list(range(10)),
        },
    )
