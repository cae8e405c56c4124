"""Long takes play from their head while the rest loads (review 11 found these holes): Space
replayed only the 3 s head, and a rest that came after the head ran out never played."""

import time

import numpy as np
import soundfile as sf

from studio.ui import audition as A
from studio.ui.audition import Audition
from studio.ui.player import Player
from studio.ui.preview import PreviewPanel

SR = 48000  # the fake output's rate


def _sounding_seconds(out, sr, max_blocks=5000):
    n = 0
    for _ in range(max_blocks):
        blk = out.pull(4800)
        n += int(np.count_nonzero(np.abs(blk[:, 0]) > 1e-6))
        if not blk.any() and n:
            break
    return n / sr


def test_space_replays_whole_take(qtbot, tmp_path, fake_output):
    sr = 48000
    rng = np.random.default_rng(0)
    y = (0.2 * rng.standard_normal(10 * sr)).astype(np.float32)  # 10 s, never silent
    path = str(tmp_path / "take.wav")
    sf.write(path, y, sr, subtype="FLOAT")
    player = Player(lambda _d: fake_output)
    assert player.open()
    preview = PreviewPanel()
    qtbot.addWidget(preview)
    aud = Audition(player, preview)
    aud.select(path)
    # head delivered, then the rest job: wait until nothing is loading any more
    qtbot.waitUntil(lambda: player.is_playing(), timeout=5000)
    qtbot.waitUntil(lambda: not aud.busy(), timeout=10000)
    first = _sounding_seconds(fake_output, sr)
    assert first > 9.5  # the head plus the rest: the whole take
    qtbot.waitUntil(lambda: not player.is_playing(), timeout=2000)
    aud.toggle()  # Space: "play the current sample from the start"
    assert player.is_playing()
    again = _sounding_seconds(fake_output, sr)
    aud.shutdown()
    assert again > 9.5, f"Space replayed {again:.2f} s of a 10 s take (expected ~10 s)"


def _head_playing(fake_output):
    """A player on `fake_output` playing the 3 s head of a 10 s take: (player, head, take)."""
    p = Player(lambda _d: fake_output)
    assert p.open()
    whole = np.full(10 * SR, 0.5, np.float32)
    return p, p.play(whole[: 3 * SR].copy(), "take.wav"), whole


def test_rest_after_head_ended_player_level(fake_output):
    p, head, whole = _head_playing(fake_output)
    for _ in range(31):            # 3.1 s pulled: the head played out
        fake_output.pull(4800)
    p.extend(head, whole)          # the rest arrives now
    blk = fake_output.pull(4800)
    assert np.abs(blk).max() > 0.1, "the take stopped at 3 s and the rest never played"


def test_rest_after_head_ended_audition(qtbot, tmp_path, fake_output, monkeypatch):
    sr = 48000
    y = np.full(10 * sr, 0.3, np.float32)
    path = str(tmp_path / "take.wav")
    sf.write(path, y, sr, subtype="FLOAT")
    real = A.load_for_playback

    def slow(path, out_sr, until=None, head=False):
        if not head:
            time.sleep(1.4)  # a busy machine (indexing at nice 10, a 30 s MP3 to decode)
        return real(path, out_sr, until, head)

    monkeypatch.setattr(A, "load_for_playback", slow)
    p = Player(lambda _d: fake_output)
    assert p.open()
    prev = PreviewPanel()
    qtbot.addWidget(prev)
    aud = A.Audition(p, prev)
    aud.select(path, region=(1.9, 2.9))  # a match 1.9 s in: head chosen (1.9 < 2.0)
    qtbot.waitUntil(p.is_playing, timeout=5000)
    # Pull as a sound card does: as many frames as wall time has passed, so a slow loop on a
    # busy CI machine pulls bigger blocks rather than less audio. 3 s pulled in all: the
    # head (1.1 s from the match) runs out at 1.1 s, the rest arrives ~1.4 s in; if it
    # died with the head, 1.1 s would sound.
    t0 = time.monotonic()
    pulled = heard = 0
    while pulled < 3 * sr:
        due = min(3 * sr, int((time.monotonic() - t0) * sr))
        if due > pulled:
            blk = fake_output.pull(due - pulled)
            heard += int(np.count_nonzero(blk[:, 0]))
            pulled = due
        qtbot.wait(10)
    aud.shutdown()
    assert heard / sr > 2.0, f"only {heard / sr:.2f} s sounded: it died when the head ran out"


def test_a_stopped_take_does_not_start_again_when_its_rest_arrives(fake_output):
    p, head, whole = _head_playing(fake_output)
    fake_output.pull(4800)
    p.stop()
    fake_output.pull(4800)
    p.extend(head, whole)
    assert np.abs(fake_output.pull(4800)).max() == 0.0 and not p.is_playing()


def test_a_take_stopped_after_its_head_ran_out_stays_stopped(fake_output):
    p, head, whole = _head_playing(fake_output)
    for _ in range(31):  # the head ran out: silence while the rest loads
        fake_output.pull(4800)
    p.stop()  # Esc
    p.extend(head, whole)
    assert np.abs(fake_output.pull(4800)).max() == 0.0 and not p.is_playing()
