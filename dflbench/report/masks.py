"""Segmentation pictures for the HTML report: a test image, its true mask and each treatment's
predicted mask as small PNG images inlined as ``data:`` URIs (the page still loads nothing). Masks
are coloured by class with one palette for the whole page; ignored pixels are white."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np

from dflbench.report.plots import OKABE_ITO
from dflbench.results.pictures import IGNORED, decode

#: Class colours: background (class 0) near-black, then the charts' Okabe-Ito colours, which stay
#: distinguishable under the common colour-vision deficiencies; repeated beyond eight classes.
PALETTE = ("#222222", *(c for c in OKABE_ITO if c != "#000000"))
IGNORED_COLOUR = "#FFFFFF"


def class_colour(c: int) -> str:
    return PALETTE[c % len(PALETTE)]


def _png(rgb: np.ndarray) -> str:
    """An (H, W, 3) or (H, W) uint8 array as a PNG ``data:`` URI."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def mask_uri(text: str, shape: Sequence[int], n_classes: int) -> str:
    """An encoded mask (H, W) as a coloured PNG."""
    mask = decode(text, shape)
    from PIL import ImageColor

    lut = np.array([ImageColor.getrgb(class_colour(c)) for c in range(n_classes)]
                   + [ImageColor.getrgb(IGNORED_COLOUR)], dtype=np.uint8)
    index = np.where(mask == IGNORED, n_classes, np.minimum(mask, n_classes - 1))
    return _png(lut[index])


def image_uri(text: str, shape: Sequence[int]) -> str:
    """An encoded image (C, H, W) as a PNG: RGB from its first three channels, grey from the
    first channel of an image with fewer."""
    image = decode(text, shape)
    if image.shape[0] < 3:
        return _png(image[0])
    return _png(np.moveaxis(image[:3], 0, -1).copy())
