"""The look: a dark palette, the QSS in resources/ui/dark.qss and the SVG icons beside it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from studio.core.resources import resource


def resources_dir() -> Path:
    """resources/ui, wherever Studio's resources are (studio.core.resources)."""
    return resource("ui")


@cache
def icon(name: str) -> QIcon:
    path = resources_dir() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()


def apply(app: QApplication) -> None:
    """Fusion + dark palette (for widgets QSS does not reach) + the stylesheet."""
    app.setStyle("Fusion")
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1b1e23", QPalette.ColorRole.WindowText: "#d5dbe3",
        QPalette.ColorRole.Base: "#16181c", QPalette.ColorRole.AlternateBase: "#1a1d22",
        QPalette.ColorRole.Text: "#d5dbe3", QPalette.ColorRole.Button: "#262a31",
        QPalette.ColorRole.ButtonText: "#d5dbe3", QPalette.ColorRole.Highlight: "#2c7a7b",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#262a31",
        QPalette.ColorRole.ToolTipText: "#e6edf3", QPalette.ColorRole.PlaceholderText: "#6b7480",
        QPalette.ColorRole.Link: "#4fd1c5",
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#5c6570"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#5c6570"))
    app.setPalette(pal)
    qss = resources_dir() / "dark.qss"
    if qss.exists():
        app.setStyleSheet(qss.read_text(encoding="utf-8"))
    app.setWindowIcon(icon("app"))
