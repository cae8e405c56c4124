"""The desktop app (PySide6). Everything Qt lives here; studio.core never imports it.

Entry point: `studio.ui.app.run_app`. Panels are split by what they do: library tree,
results, preview (waveform + spectrogram), search bar, status bar, player, background worker.
"""
