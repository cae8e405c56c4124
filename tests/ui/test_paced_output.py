"""The clocked stand-in output pulls blocks at the pace of a real sound card."""

from __future__ import annotations

import time

from studio.ui.player import BLOCK_FRAMES, PacedOutput


def test_paced_output_pulls_one_block_per_block_period():
    calls: list[int] = []
    out = PacedOutput(samplerate=48000, channels=2)
    out.start(lambda buf, frames: calls.append(frames))
    time.sleep(0.32)
    out.close()
    expected = 0.32 / (BLOCK_FRAMES / 48000)  # 30 blocks
    assert 0.6 * expected <= len(calls) <= 1.3 * expected
    assert set(calls) == {BLOCK_FRAMES}
    n = len(calls)
    time.sleep(0.05)
    assert len(calls) == n, "close() stops the clock"
