"""Decoding audio files into mono float32 arrays.

Every format goes through soundfile (libsndfile: WAV, AIFF, FLAC, MP3, OGG/Vorbis/Opus);
resampling goes through soxr. Any file that cannot be decoded raises `DecodeError` with a
short reason a user can act on, never some library's exception.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

# Formats libsndfile cannot decode: still found by the scan and listed as skipped, named so
# that the reason says what to do about them.
UNSUPPORTED_EXTENSIONS = {".m4a": "AAC/ALAC (.m4a)", ".aac": "AAC", ".mp4": "AAC (.mp4)",
                          ".wma": "WMA"}
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".aif", ".aiff", ".aifc", ".flac", ".mp3", ".ogg", ".oga", ".opus",
     ".caf", ".w64", ".rf64"}
    | UNSUPPORTED_EXTENSIONS.keys()
)
# A one-shot library holds small files; anything past this is someone's 2-hour recording.
MAX_FILE_BYTES = 2 * 1024**3
# What is read of a long file unless a caller asks for more (loops are windowed later).
DEFAULT_MAX_SECONDS = 30.0


# Errors about reaching a file rather than about what it holds (decode's wording, and the
# OS's strerror when hashing): the file may read fine later (permissions fixed, its drive
# plugged back in), so it is tried again rather than given up on.
ACCESS_ERRORS = ("permission denied", "file not found", "cannot read file", "no such file",
                 "input/output error", "resource temporarily unavailable", "stale file handle")


def is_access_error(reason: str) -> bool:
    return reason.lower().startswith(ACCESS_ERRORS)


class DecodeError(Exception):
    """A file that cannot be analysed; `reason` is shown to the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # mono float32, shape (n,)
    sr: int
    duration: float  # of the whole file, seconds (may exceed len(samples)/sr when cut)


def is_audio_path(path: str | os.PathLike[str]) -> bool:
    return os.path.splitext(os.fspath(path))[1].lower() in AUDIO_EXTENSIONS


def decode(
    path: str | os.PathLike[str],
    sr: int | None = None,
    *,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
    offset_seconds: float = 0.0,
    stereo: bool = False,
) -> Audio:
    """Read `path` as mono float32, resampled to `sr` (native rate when None).

    Reads at most `max_seconds` from `offset_seconds` on, so a huge file costs no more than a
    short one. Raises DecodeError with a user-facing reason for anything unreadable.
    With `stereo` (audition), a two-channel file comes back as (frames, 2), left and right
    as they are; any other stays mono.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
    except FileNotFoundError:
        raise DecodeError("file not found") from None
    except PermissionError:
        raise DecodeError("permission denied") from None
    except OSError as e:
        raise DecodeError(f"cannot read file: {e.strerror or e}") from None
    if size == 0:
        raise DecodeError("empty file (0 bytes)")
    if size > MAX_FILE_BYTES:
        raise DecodeError(f"file too large ({size / 1024**3:.1f} GB)")
    try:
        with sf.SoundFile(str(p)) as f:
            native_sr = int(f.samplerate)
            total = int(f.frames)
            if native_sr <= 0:
                raise DecodeError("invalid sample rate")
            start = int(offset_seconds * native_sr)
            if start:
                f.seek(min(start, max(total - 1, 0)))
            frames = -1 if max_seconds is None else int(max_seconds * native_sr)
            data = f.read(frames=frames, dtype="float32", always_2d=True)
    except DecodeError:
        raise
    except PermissionError:
        raise DecodeError("permission denied") from None
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as e:
        if not os.access(p, os.R_OK):  # libsndfile says only "System error"
            raise DecodeError("permission denied") from None
        kind = UNSUPPORTED_EXTENSIONS.get(p.suffix.lower())
        if kind:
            raise DecodeError(
                f"{kind} is not supported: convert it to WAV, AIFF, FLAC or MP3"
            ) from None
        reason = _reason(e)
        if "not a regular file" in reason and p.is_file():
            # libsndfile's MP3 reader says so of any regular file it cannot parse (random
            # bytes named .mp3): the file is there, it is not audio (review 14).
            reason = "not an audio file (format not recognised)"
        raise DecodeError(reason) from None
    if data.shape[0] == 0:
        raise DecodeError("no audio frames (zero length)")
    # A mat-vec product mixes to mono (~40x faster than data.mean(axis=1) on interleaved
    # frames). Reading integers and scaling them here was tried: no faster on the dev corpus
    # (1.54 against 1.26 ms a file, 24-bit stereo worst), so libsndfile converts.
    ch = data.shape[1]
    mono = data[:, 0] if ch == 1 else data @ np.full(ch, 1.0 / ch, np.float32)
    mono = _finite(np.ascontiguousarray(mono, dtype=np.float32))
    if ch > 1:
        mono = _keep_opposed_channels(data, mono)
    peak = max(float(mono.max()), -float(mono.min()))  # no temporary array
    if peak > MAX_FLOAT_PEAK:
        # Samples a million times full scale are not audio (random bytes, a broken writer):
        # analysed, they gave NaN scores.
        raise DecodeError("corrupt sample values (far beyond full scale)")
    scale_16_8 = (peak > FLOAT_16_8_PEAK
                  and np.count_nonzero(np.abs(mono) > 2.0) > 0.01 * mono.size)
    if scale_16_8:
        # A "16.8" float file (Cool Edit / Audition): 32-bit floats on a +-32768 scale, the
        # whole sound so (one glitch sample in an ordinary file is not).
        mono *= np.float32(1.0 / 32768.0)
    duration = total / native_sr if total > 0 else len(mono) / native_sr
    if stereo and ch == 2:
        both = _finite(np.ascontiguousarray(data, dtype=np.float32))
        if scale_16_8:
            both *= np.float32(1.0 / 32768.0)
        if sr is not None and sr != native_sr:
            return Audio(resample(both, native_sr, sr), sr, duration)
        return Audio(both, native_sr, duration)
    if sr is not None and sr != native_sr:
        mono = resample(mono, native_sr, sr)
        return Audio(mono, sr, duration)
    return Audio(mono, native_sr, duration)


# Float audio may go over full scale (+24 dB is 16). Far beyond that it is a "16.8" file
# (+-32768 full scale), and beyond that again it is not audio.
FLOAT_16_8_PEAK = 256.0
MAX_FLOAT_PEAK = 1e6


def _keep_opposed_channels(data: np.ndarray, mono: np.ndarray) -> np.ndarray:
    """The mono mix, unless it cancels: channels in opposite polarity (a "wide" clap whose
    right side is the left one inverted) average to nearly nothing, and the sound would be
    analysed as its rounding noise. Then the loudest channel is the sound."""
    step = max(1, len(mono) // 4096)  # ~4k frames spread over the sound settle it
    some = np.nan_to_num(data[::step], nan=0.0, posinf=0.0, neginf=0.0)
    per = np.einsum("ij,ij->j", some, some)
    m = mono[::step]
    mix = float(np.dot(m, m))
    if per.max() > 0 and mix < 0.05 * float(per.mean()):  # the mix is 13 dB down or more
        loud = int(np.argmax(per))
        return _finite(np.ascontiguousarray(data[:, loud], dtype=np.float32))
    return mono


def _finite(y: np.ndarray) -> np.ndarray:
    """`y` with NaN and infinite samples made 0 (a copy only when there are any)."""
    if np.all(np.isfinite(y)):
        return y
    return np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)


def resample(y: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    if sr_in == sr_out:
        return y
    out = soxr.resample(y, sr_in, sr_out, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.float32)


def _reason(e: Exception) -> str:
    msg = str(e).strip()
    low = msg.lower()
    if "format not recognised" in low or "unknown format" in low or "not recognised" in low:
        return "not an audio file (format not recognised)"
    if "unsupported" in low:
        return "unsupported audio encoding"
    if "truncat" in low or "unexpected end" in low or "premature" in low:
        return "truncated file"
    # libsndfile messages start with "Error opening '<path>': "; the path is noise to a user.
    if ": " in msg and msg.lower().startswith("error opening"):
        msg = msg.split(": ", 1)[1]
    if "psf_" in low or "internal" in low:  # libsndfile's own words: "Internal psf_fseek()"
        return "damaged or incomplete file (its audio data cannot be read)"
    return f"cannot decode: {msg}" if msg else "cannot decode"
