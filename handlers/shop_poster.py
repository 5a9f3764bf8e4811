"""The shop window poster: an A4 page with the shop's name, a QR code of its deep link and text.

Used by `citybot shop poster KEY [--out FILE]`; PDF or PNG by the file's extension.
"""

from __future__ import annotations

import io
from pathlib import Path

import segno

from storage.shops import Shop

A4_INCHES = (8.27, 11.69)
PNG_DPI = 150


def deep_link(bot_username: str, shop_key: str) -> str:
    """The Telegram link that opens the shop's card: https://t.me/<bot>?start=shop-KEY."""
    return f"https://t.me/{bot_username}?start=shop-{shop_key}"


def qr_matrix(data: str) -> list[list[int]]:
    """The QR code of data as rows of 0/1 (1 = dark), with the quiet zone."""
    code = segno.make_qr(data, error="m")
    return [list(row) for row in code.matrix_iter(scale=1, border=4)]


def render_poster(shop: Shop, link: str, matrix_id: str | None, fmt: str = "pdf") -> bytes:
    """The poster as PDF or PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure = plt.figure(figsize=A4_INCHES)
    try:
        figure.text(0.5, 0.92, shop.name, ha="center", va="center", fontsize=34, weight="bold")
        figure.text(0.5, 0.875, shop.address, ha="center", va="center", fontsize=14)
        side = 0.65  # of the page width; the QR code is square on paper
        axes = figure.add_axes((0.175, 0.3, side, side * A4_INCHES[0] / A4_INCHES[1]))
        axes.imshow(qr_matrix(link), cmap="gray_r", interpolation="nearest", vmin=0, vmax=1)
        axes.set_axis_off()
        figure.text(
            0.5,
            0.24,
            "Scannen: Folgen Sie uns, kaufen Sie einen Gutschein",
            ha="center",
            fontsize=18,
            weight="bold",
        )
        figure.text(0.5, 0.205, "Scan: follow us, buy a voucher", ha="center", fontsize=16)
        figure.text(0.5, 0.15, link, ha="center", fontsize=11, family="monospace")
        if matrix_id:
            figure.text(
                0.5,
                0.115,
                f"Matrix: {matrix_id} – schreiben Sie „{shop.name}“ / write “{shop.name}”",
                ha="center",
                fontsize=11,
            )
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt, dpi=PNG_DPI)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def poster_format(path: Path) -> str:
    """'pdf' or 'png' from the file name (ValueError for anything else)."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("pdf", "png"):
        raise ValueError(f"{path.name}: the poster is written as .pdf or .png")
    return suffix
