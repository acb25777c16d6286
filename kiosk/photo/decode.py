"""Refuse a picture too large (or too thin) to decode, before decoding it.

A file's header says how many pixels it holds, and a few hundred bytes can claim 12000×12000:
decoding that costs gigabytes, which on a 2 GB Raspberry Pi is the out-of-memory killer. So
every command that decodes a picture it did not make itself (``kiosk check``, ``make``,
``verify``, the registrar's tools, the contact sheet) first reads the size from the header
(Pillow opens lazily and reads only the header) and refuses with a bilingual message::

    width, height = check_image_file(path)      # raises ImageRefused
    check_dimensions(width, height)             # when the size is already known
"""

from __future__ import annotations

import io
import os
import warnings

from PIL import Image, UnidentifiedImageError

from kiosk.message import Message

# [product] The booth's camera still is 4056×3040 (12.3 MP); a phone photo given to
# `kiosk check` may be 48 MP. 50 MP decodes to 150 MB of RGB: the most a 2 GB Pi can afford
# next to the models.
MAX_DECODED_PIXELS = 50_000_000
# [product] Below 64 px on a side no face can meet the standard, and the analyser's scaling
# of such a strip fails inside OpenCV; more elongated than 4:1 is no portrait either.
MIN_SIDE = 64
MAX_ASPECT = 4.0


class ImageRefused(ValueError):
    """A picture that is not decoded; ``message`` says why, in Chinese and English."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message


def check_dimensions(width: int, height: int) -> None:
    """Raise :class:`ImageRefused` unless a ``width`` × ``height`` picture may be decoded."""
    if width * height > MAX_DECODED_PIXELS:
        raise ImageRefused(Message(
            f"图像太大（{width}×{height} 像素），最多 {MAX_DECODED_PIXELS // 1_000_000} 百万像素",
            f"the picture is too large ({width}×{height} pixels); at most "
            f"{MAX_DECODED_PIXELS // 1_000_000} megapixels are decoded"))
    short, long_ = sorted((width, height))
    if short < MIN_SIDE or long_ > MAX_ASPECT * short:
        raise ImageRefused(Message(
            f"图像尺寸不合理（{width}×{height} 像素），不是证件照",
            f"the picture's size ({width}×{height} pixels) cannot be a portrait photo"))


def check_image_file(source: str | os.PathLike[str] | bytes) -> tuple[int, int]:
    """The (width, height) the header of ``source`` (a path or the file's bytes) declares,
    after :func:`check_dimensions`. Raises :class:`ImageRefused`, or ``OSError`` when the file
    cannot be read."""
    fp = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    try:
        with warnings.catch_warnings():    # judged below, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(fp) as im:
                width, height = im.size
    except (UnidentifiedImageError, Image.DecompressionBombError, SyntaxError, ValueError) as exc:
        raise ImageRefused(Message("无法识别的图像文件", f"not an image file Pillow can read: {exc}")) \
            from None
    check_dimensions(width, height)
    return width, height
