"""Decoding: every supported format, and every kind of bad file, with a clear reason."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from studio.core.audio import DecodeError, decode, is_audio_path
from studio.core.synth import voice


@pytest.mark.parametrize(
    "ext,fmt,subtype",
    [
        ("wav", "WAV", "PCM_16"),
        ("aiff", "AIFF", "PCM_24"),
        ("flac", "FLAC", "PCM_16"),
        ("ogg", "OGG", "VORBIS"),
        ("mp3", "MP3", "MPEG_LAYER_III"),
    ],
)
def test_decodes_each_format_to_mono_float32(tmp_path, ext, fmt, subtype):
    y = voice("kick", 0)
    stereo = np.stack([y, 0.5 * y], axis=1)
    p = tmp_path / f"kick.{ext}"
    sf.write(p, stereo, 44100, format=fmt, subtype=subtype)
    a = decode(p, sr=22050)
    assert a.sr == 22050 and a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert abs(a.duration - len(y) / 44100) < 0.1
    # resampled to half the rate: about half the samples (codecs may pad a little)
    assert abs(len(a.samples) - len(y) / 2) < 2500
    # the kick's energy survives the round trip (lossy codecs included)
    assert np.max(np.abs(a.samples)) > 0.3


@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize(
    "ext,fmt,subtype",
    [
        ("wav", "WAV", "PCM_16"), ("wav", "WAV", "PCM_24"), ("wav", "WAV", "PCM_32"),
        ("wav", "WAV", "PCM_U8"), ("wav", "WAV", "FLOAT"), ("aiff", "AIFF", "PCM_S8"),
        ("flac", "FLAC", "PCM_16"), ("flac", "FLAC", "PCM_24"),
    ],
)  # fmt: skip
def test_every_pcm_width_gives_libsndfiles_floats(tmp_path, ext, fmt, subtype, channels):
    """decode's mono mix is the mean of libsndfile's float samples, full scale and odd
    values included (a faster integer path was tried and dropped; this guards the next)."""
    rng = np.random.default_rng(7)
    y = rng.uniform(-1.0, 1.0, (3000, channels)).astype(np.float32)
    y[:4] = [[1.0], [-1.0], [0.5], [-0.999]]
    p = tmp_path / f"x.{ext}"
    sf.write(p, y, 44100, format=fmt, subtype=subtype)
    ref, _ = sf.read(p, dtype="float32", always_2d=True)
    a = decode(p)
    assert a.samples.dtype == np.float32 and a.samples.shape == (3000,)
    np.testing.assert_allclose(a.samples, ref.mean(axis=1), rtol=0, atol=2e-7)
    assert np.abs(a.samples).max() <= 1.0


def test_max_seconds_reads_only_the_start(tmp_path):
    p = tmp_path / "long.wav"
    sf.write(p, np.zeros(44100 * 20, np.float32) + 0.1, 44100)
    a = decode(p, max_seconds=1.0)
    assert len(a.samples) == 44100 and a.duration == pytest.approx(20.0)


def _bad(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_bad_files_give_reasons(tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, voice("snare", 0), 44100)
    raw = good.read_bytes()
    cases = {
        "empty.wav": (b"", "empty"),
        "text.wav": (b"this is not audio at all\n" * 20, "not"),
        "truncated.wav": (raw[:30], ""),
        "garbage.flac": (bytes(range(256)) * 8, ""),
    }
    for name, (data, word) in cases.items():
        with pytest.raises(DecodeError) as e:
            decode(_bad(tmp_path, name, data))
        assert e.value.reason and word in e.value.reason, (name, e.value.reason)


def test_zero_length_wav(tmp_path):
    p = tmp_path / "zero.wav"
    sf.write(p, np.zeros(0, np.float32), 44100)
    with pytest.raises(DecodeError, match="zero length|no audio"):
        decode(p)


def test_huge_and_missing_files(tmp_path):
    p = tmp_path / "huge.wav"
    with open(p, "wb") as f:  # sparse: no disk used
        f.truncate(3 * 1024**3)
    with pytest.raises(DecodeError, match="too large"):
        decode(p)
    with pytest.raises(DecodeError, match="not found"):
        decode(tmp_path / "nope.wav")


def test_audio_extensions():
    assert is_audio_path("a/B.WAV") and is_audio_path("x.aif") and is_audio_path("x.mp3")
    assert not is_audio_path("notes.txt") and not is_audio_path("kick.wav.asd")


def test_channels_in_opposite_polarity_are_not_cancelled(tmp_path):
    """A 'wide' stereo hit whose right channel is the left one inverted: the plain average is
    silence plus rounding noise, and the clap was analysed as a crash. The loudest channel
    is used instead."""
    y = voice("clap", 0)
    p = tmp_path / "wide clap.wav"
    sf.write(p, np.stack([y, -y], axis=1), 44100, subtype="PCM_16")
    a = decode(p)
    ref, _ = sf.read(p, dtype="float32", always_2d=True)
    assert any(np.allclose(a.samples, ref[:, c], atol=1e-6) for c in (0, 1))
    # an ordinary stereo file is still the average of its channels
    q = tmp_path / "normal.wav"
    sf.write(q, np.stack([y, 0.5 * y], axis=1), 44100, subtype="PCM_16")
    ref, _ = sf.read(q, dtype="float32", always_2d=True)
    np.testing.assert_allclose(decode(q).samples, ref.mean(axis=1), atol=1e-6)


def test_float_samples_far_beyond_full_scale_are_refused(tmp_path):
    """Random bytes or a broken writer (peaks ~1e30) were indexed and gave NaN scores (and
    JSON that strict parsers reject); hot float audio (+12 dB) is kept."""
    p = tmp_path / "broken.wav"
    sf.write(p, (voice("snare", 0) * 1e30).astype(np.float32), 44100, subtype="FLOAT")
    with pytest.raises(DecodeError, match="corrupt sample values"):
        decode(p)
    hot = tmp_path / "hot.wav"
    sf.write(hot, voice("snare", 0) * 4.0, 44100, subtype="FLOAT")
    assert np.abs(decode(hot).samples).max() > 1.0
    # a "16.8" float file (Cool Edit, Audition: +-32768 full scale) is that sound
    old = tmp_path / "cool edit.wav"
    y = voice("snare", 0)
    sf.write(old, y * 32768.0, 44100, subtype="FLOAT")
    np.testing.assert_allclose(decode(old).samples, y, atol=1e-5)


@pytest.mark.parametrize("ext,fmt", [("caf", "CAF"), ("w64", "W64")])
def test_caf_and_w64_are_library_formats(tmp_path, ext, fmt):
    p = tmp_path / f"kick.{ext}"
    sf.write(p, voice("kick", 0), 44100, format=fmt, subtype="PCM_16")
    assert is_audio_path(p) and np.abs(decode(p).samples).max() > 0.3


def test_m4a_is_found_and_skipped_with_what_to_do(tmp_path):
    """AAC files were ignored without a word; now the scan lists them as skipped."""
    p = tmp_path / "loop.m4a"
    p.write_bytes(b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + b"\x00" * 400)
    assert is_audio_path(p)
    with pytest.raises(DecodeError, match=r"not supported: convert it to WAV"):
        decode(p)


def test_one_bad_sample_does_not_change_the_whole_sound(tmp_path):
    """A NaN in opposed-polarity stereo silenced the sound; one glitch sample of 500 in an
    ordinary float file made it read as '16.8' and divided it by 32768."""
    y = voice("clap", 0).astype(np.float32)
    st = np.stack([y, -y], axis=1)
    st[100, 0] = np.nan
    p = tmp_path / "wide.wav"
    sf.write(p, st, 44100, subtype="FLOAT")
    assert np.abs(decode(p).samples).max() > 0.5
    g = y.copy()
    g[200] = 500.0
    q = tmp_path / "glitch.wav"
    sf.write(q, g, 44100, subtype="FLOAT")
    out = decode(q).samples
    assert abs(float(np.abs(np.delete(out, 200)).max()) - float(np.abs(np.delete(y, 200)).max())) < 1e-3


def test_libsndfile_internals_are_not_the_reason_a_user_reads():
    """'cannot decode: Internal psf_fseek() failed.' reached the user (review 10)."""
    from studio.core.audio import _reason

    why = _reason(RuntimeError("Error opening 'x.wav': Internal psf_fseek() failed."))
    assert why.startswith("damaged or incomplete file") and "psf" not in why
