"""Render studio.svg into the app icons: PNGs (Linux/hicolor), studio.ico (Windows), studio.icns (macOS).

    .venv/bin/python resources/icons/make_icons.py

Rendering uses PySide6's QSvgRenderer (already a Studio dependency); writing .ico/.icns uses
Pillow, a build-time tool only (`pip install Pillow`), never a runtime dependency.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)


def render(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: TID251 - a build tool, not studio.core
    from PySide6.QtGui import QImage, QPainter  # noqa: TID251 - a build tool, not studio.core
    from PySide6.QtSvg import QSvgRenderer  # noqa: TID251 - a build tool, not studio.core

    renderer = QSvgRenderer(str(HERE / "studio.svg"))
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    painter = QPainter(img)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(data.data())


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PIL import Image
    from PySide6.QtGui import QGuiApplication  # noqa: TID251 - a build tool, not studio.core

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    images = {}
    for size in SIZES:
        png = render(size)
        (HERE / f"studio-{size}.png").write_bytes(png)
        images[size] = Image.open(io.BytesIO(png)).convert("RGBA")
    # Pillow writes each requested size from the largest image, so hand it the crisp 256.
    images[256].save(HERE / "studio.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)],
                     append_images=[images[s] for s in (16, 24, 32, 48, 64, 128)])
    images[1024].save(HERE / "studio.icns",
                      append_images=[images[s] for s in (16, 32, 64, 128, 256, 512)])
    print("wrote", ", ".join(sorted(p.name for p in HERE.glob("studio*.*")
                                    if p.suffix != ".svg")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
