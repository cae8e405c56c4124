"""What happens when a sample is selected: its picture is drawn and (with auto-play) it plays.

Two newest-request-wins runners: one decodes for the player (fast, so the sound starts at
once), one computes the waveform and spectrogram. Arrow keys through a list therefore never
queue up work: only the last selection is rendered and heard.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from studio.core.audio import DecodeError
from studio.ui.player import Player
from studio.ui.preview import PreviewPanel
from studio.ui.preview_data import HEAD_SECONDS, PreviewData, load_for_playback, load_preview
from studio.ui.worker import Job, LatestRunner


def _audio_job(job: Job, path: str, sr: int, until: float | None = None,
               head: bool = False) -> Any:
    return load_for_playback(path, sr, until, head)


def _picture_job(job: Job, path: str, until: float | None = None) -> PreviewData:
    return load_preview(path, job.should_stop, until)


class Audition(QObject):
    message = Signal(str)

    def __init__(self, player: Player, preview: PreviewPanel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.preview = preview
        self.auto_play = True
        self.current: str | None = None
        self.info: dict[str, str] = {}  # path -> extra text for the preview title
        # path -> (start, end) of the matching window inside a longer file
        self.regions: dict[str, tuple[float, float] | None] = {}
        self._audio = LatestRunner("Loading audio", self)
        self._head: Any = None  # the first part of a long file, playing while the rest loads
        self._picture = LatestRunner("Drawing waveform", self)
        self._audio.result.connect(self._audio_ready)
        self._audio.failed.connect(self._audio_failed)
        self._picture.result.connect(self._picture_ready)
        player.position.connect(preview.set_playhead)
        player.stopped.connect(lambda: preview.set_playhead(None))

    def select(self, path: str, info: str = "", play: bool | None = None,
               region: tuple[float, float] | None = None) -> None:
        """`path` became the current sample: draw it and, if auto-play is on, play it.

        With `region` (where a search matched inside a longer file) it is shaded on the
        waveform and audition starts at its beginning."""
        self.current = path
        self.info[path] = info
        self.regions[path] = region
        self._picture.submit(path, _picture_job, path, region[1] if region else None)
        if (self.auto_play if play is None else play):
            self.play(path)
        elif self.player.is_playing():
            self.player.stop()

    def play(self, path: str | None = None) -> None:
        path = path or self.current
        sr = self.player.samplerate
        if path is None or sr is None:
            return
        region = self.regions.get(path)
        # The head first when playback starts inside it (it nearly always does): a long
        # take sounds at once and the rest follows. A match far into a file is read to it.
        head = region is None or region[0] < HEAD_SECONDS - 1.0
        self._audio.submit(path, _audio_job, path, sr, region[1] if region else None, head)

    def start_of(self, path: str | None) -> float:
        region = self.regions.get(path) if path else None
        return region[0] if region else 0.0

    def toggle(self) -> None:
        """Space: stop what plays, else play the current sample from the start."""
        if self.player.is_playing():
            self.player.stop()
        elif self.current is not None:
            if self.player.path == self.current and self.player.replay():
                return
            self.play(self.current)

    def stop(self) -> None:
        self._audio.cancel()
        self.player.stop()

    def shutdown(self) -> None:
        self._audio.shutdown()
        self._picture.shutdown()

    def busy(self) -> bool:
        return self._audio.busy() or self._picture.busy()

    def _audio_ready(self, tag: object, result: Any) -> None:
        samples, more = result
        if isinstance(tag, tuple):  # ("rest", path): the whole of what was started
            if tag[1] == self.current and self._head is not None:
                self.player.extend(self._head, samples)
            self._head = None
            return
        if tag != self.current:
            return
        path = str(tag)
        self._head = self.player.play(samples, path, self.start_of(path))
        if more and self._head is not None:
            region = self.regions.get(path)
            self._audio.submit(("rest", path), _audio_job, path, self.player.samplerate,
                               region[1] if region else None, False)

    def _audio_failed(self, path: object, exc: object) -> None:
        if isinstance(path, tuple):  # the rest of a file that started: it plays its head
            return
        why = exc.reason if isinstance(exc, DecodeError) else str(exc)
        if path == self.current:
            # The sample before it must not play on as if it were this one.
            self.player.stop()
        self.message.emit(f"Cannot play {str(path).rsplit('/', 1)[-1]}: {why}")

    def _picture_ready(self, path: object, data: Any) -> None:
        if path == self.current:
            self.preview.show_data(data, self.info.get(str(path), ""),
                                   self.regions.get(str(path)))
