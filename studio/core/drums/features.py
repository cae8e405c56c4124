"""Measured quantities of one drum sound, in numpy only.

`measure(y, sr)` turns mono audio at ANALYSIS_SR into a dict of plain numbers (decay times,
attack, spectral shape per time segment, pitch, noise floor...) plus the fixed-length
feature vector the category classifier reads. Everything here must stay cheap: about a
millisecond for a one-second one-shot on one core, so it does a few dozen numpy calls and
never loops over samples in Python.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

SR = 22050
ENV_HOP = 64  # 2.9 ms envelope frames: fine enough for attack times and clap bursts
N_FFT = 1024
HOP = 512  # dense spectral frames over attack and body (23 ms)
SPEC_SECONDS = 1.5  # spectral frames are taken over this much of the sound from its onset
N_BANDS = 20
PITCH_FFT = 8192
# Time-frequency patch: one N_FFT frame at each of these times (s) after the onset, read in
# the N_BANDS log bands, in dB under the patch's loudest cell. Log-spaced so it sees the
# click, the body and the multi-second wash of cymbals alike (decay per band).
PATCH_TIMES = (0, .01, .02, .04, .07, .11, .17, .25, .36, .5, .7, 1.0, 1.4, 2.0, 2.8, 3.9)  # fmt: skip
PATCH_FLOOR_DB = -80.0
FLOOR_DB = -100.0
# Frame-centre times (s) that split the sound into attack / body / tail for spectral shape.
ATTACK_END = 0.030
BODY_END = 0.150
TAIL_END = 0.500
_EPS = 1e-12
_OCTAVES = [
    (int(lo * N_FFT / SR), int(lo * 2 * N_FFT / SR))
    for lo in (62.5, 125, 250, 500, 1000, 2000, 4000, 8000)
]
_OCTAVES[-1] = (_OCTAVES[-1][0], N_FFT // 2 + 1)
_OCT_LO = _OCTAVES[0][0]
_OCT_IDX = np.array([lo - _OCT_LO for lo, _ in _OCTAVES])
_OCT_LEN = np.array([hi - lo for lo, hi in _OCTAVES], dtype=np.float64)


@lru_cache(maxsize=4)
def _bands(sr: int = SR, n_fft: int = N_FFT, n_bands: int = N_BANDS) -> np.ndarray:
    """Triangular log-spaced bands from 30 Hz to 11 kHz (rows sum over FFT bins)."""
    freqs = np.linspace(0.0, sr / 2, n_fft // 2 + 1)
    edges = np.geomspace(30.0, min(11000.0, sr / 2), n_bands + 2)
    fb = np.zeros((n_bands, freqs.size), dtype=np.float32)
    for i in range(n_bands):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[i] = np.maximum(0.0, np.minimum(up, down))
        if fb[i].sum() == 0:  # a band narrower than one bin still gets its nearest bin
            fb[i, int(np.argmin(np.abs(freqs - c)))] = 1.0
    return fb.T.copy()


@lru_cache(maxsize=4)
def _window(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32)


def _db(x: np.ndarray | float) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(x, _EPS))


def clean(y: np.ndarray) -> np.ndarray:
    """Any input -> finite mono float32 (NaN/inf become 0), at least a few samples long."""
    y = np.asarray(y, dtype=np.float32).ravel()
    if y.size and not np.all(np.isfinite(y)):
        y = np.nan_to_num(y, nan=0.0, posinf=0.0, neginf=0.0)
    if y.size < ENV_HOP * 2:
        y = np.pad(y, (0, ENV_HOP * 2 - y.size))
    return y


def envelope(y: np.ndarray) -> np.ndarray:
    """RMS per ENV_HOP-sample frame."""
    n = y.size // ENV_HOP * ENV_HOP
    fr = y[:n].reshape(-1, ENV_HOP)
    return np.sqrt(np.einsum("ij,ij->i", fr, fr) / ENV_HOP)


def _last_above(env_db: np.ndarray, start: int, thr: float) -> int:
    above = np.flatnonzero(env_db[start:] > thr)
    return int(above[-1]) if above.size else 0


def measure(y: np.ndarray, sr: int = SR) -> dict:
    """Raw measurements of a (mostly one-shot) sound; see `feature_vector` for the model input."""
    y = clean(y)
    hop_s = ENV_HOP / sr
    peak = float(np.max(np.abs(y)))
    m: dict = {"peak_db": float(_db(peak * peak)), "silent": peak < 1e-5}
    env = envelope(y)
    env_db = _db(env * env) - _db(max(float(env.max()), 1e-9) ** 2)  # 0 dB at the loudest frame
    ipk = int(np.argmax(env))
    onset = int(np.argmax(env_db > -20.0)) if peak > 0 else 0
    # Attack: -20 dB point to peak, interpolated inside the first frame so clicks read < 3 ms.
    m["attack"] = float(max(ipk - onset, 0) * hop_s + 0.5 * hop_s)
    for thr in (6, 12, 20, 30, 40):
        m[f"t{thr}"] = float((_last_above(env_db, ipk, -thr) + 1) * hop_s)
    active = env_db > -30.0
    m["loudness_db"] = float(_db(float(np.mean(env[active] ** 2)))) if active.any() else FLOOR_DB
    post = env_db[ipk:]
    m["floor_db"] = float(np.partition(post, post.size // 10)[post.size // 10])
    m["floor_db"] = max(m["floor_db"], FLOOR_DB)
    # The last quarter of the sound after its peak: a steady level there is a noise floor.
    last = post[-max(post.size // 4, 1) :]
    m["tail_db"] = max(float(np.median(last)), FLOOR_DB)
    m["tail_std"] = float(np.std(last)) if last.size > 4 else 99.0
    # Clap bursts: dips of >= 4 dB followed by a new rise, within 60 ms of the onset.
    seg = env_db[onset : onset + int(0.06 / hop_s)]
    d = np.diff(seg) if seg.size > 2 else np.zeros(1)
    m["bursts"] = float(np.sum((d[:-1] < 0) & (d[1:] > 0) & (seg[1:-1] < seg[:-2] - 1.0)))
    m["wobble"] = float(np.sum(np.maximum(d, 0.0))) if seg.size > 2 else 0.0
    # Crest of the first 100 ms and the share of active samples sitting near full scale.
    s0 = max(onset * ENV_HOP - ENV_HOP, 0)
    head = y[s0 : s0 + int(0.1 * sr)]
    rms_head = float(np.sqrt(np.mean(head * head) + _EPS))
    m["crest_db"] = float(20 * np.log10(max(peak, 1e-9) / rms_head))
    act = y[s0 : s0 + max(int(m["t20"] * sr), ENV_HOP)]
    m["clip_frac"] = float(np.mean(np.abs(act) >= 0.95 * peak)) if peak > 0 else 0.0
    m["zcr"] = (
        float(np.mean(np.abs(np.diff(np.signbit(head).astype(np.int8))))) if head.size > 1 else 0.0
    )
    m["bits"] = float(_bit_depth(y[s0 : s0 + 8192], peak))
    _spectral(y, s0, sr, m)
    _pitch(y, ipk * ENV_HOP, sr, m)
    return m


def _bit_depth(x: np.ndarray, peak: float) -> int:
    """Smallest of 4..12 bits whose full-scale grid holds every sample exactly, else 16."""
    if peak <= 0 or x.size < 64:
        return 16
    # Every coarser grid lies on the 12-bit one, so one pass settles most sounds (not on it).
    for bits in (12, 4, 6, 8, 10):
        q = x * (2 ** (bits - 1))
        if float(np.max(np.abs(q - np.round(q)))) >= 1e-3:
            if bits == 12:
                return 16
        elif bits != 12:
            return bits
    return 12


def _spectral(y: np.ndarray, s0: int, sr: int, m: dict) -> None:
    start = s0 - N_FFT // 2 + ENV_HOP
    seg = y[max(start, 0) : start + int(SPEC_SECONDS * sr) + N_FFT]
    if start < 0:
        seg = np.concatenate([np.zeros(-start, np.float32), seg])
    if seg.size < N_FFT:
        seg = np.pad(seg, (0, N_FFT - seg.size))
    # Dense frames over the attack and body. Over the tail the patch's frames that fall in
    # it (log-spaced, 0.17-1.4 s) stand in for all frames (the tail only needs an average
    # spectrum), each weighted by the stretch of time it stands for: ~14 FFTs in all.
    last = seg.size - N_FFT
    n_dense = min(int(BODY_END * sr), last) // HOP + 1
    dense = np.lib.stride_tricks.as_strided(
        seg, shape=(n_dense, N_FFT), strides=(seg.strides[0] * HOP, seg.strides[0])
    )
    t0 = n_dense * HOP
    pframes, inside = _patch_frames(y, s0, sr)
    # Patch frame positions in `seg` (which starts N_FFT/2 - ENV_HOP before s0).
    at = (s0 - start + (np.asarray(PATCH_TIMES) * sr).astype(np.int64))[inside]
    in_tail = (at >= t0) & (at <= last)
    extra = np.zeros((0, N_FFT), np.float32)
    if last >= t0 and not in_tail.any():  # a tail too short for any patch frame: one frame
        extra = seg[None, t0 : t0 + N_FFT]
        sparse_at = np.array([t0], np.int64)
    else:
        sparse_at = at[in_tail]
    spec = np.fft.rfft(np.concatenate([dense, extra, pframes]) * _window(N_FFT), axis=1)
    full = spec.real**2 + spec.imag**2
    n_p = len(pframes)
    m["patch"] = _patch(full[-n_p:], inside, sr)
    tail = full[-n_p:][in_tail] if not extra.size else full[n_dense : n_dense + 1]
    if sparse_at.size:
        edges = np.concatenate([[t0], (sparse_at[1:] + sparse_at[:-1]) / 2, [last + N_FFT]])
        tail = tail * (np.diff(edges) / HOP)[:, None]
    power = np.concatenate([full[:n_dense], tail])
    starts = np.concatenate([np.arange(n_dense) * HOP, sparse_at])
    t = starts / sr
    freqs = np.linspace(0.0, sr / 2, N_FFT // 2 + 1, dtype=np.float32)
    masks = (
        t < ATTACK_END,
        (t >= ATTACK_END) & (t < BODY_END),
        (t >= BODY_END) & (t < TAIL_END),
        t >= TAIL_END,
    )
    sums = np.stack(masks).astype(power.dtype) @ power
    total = sums.sum(axis=0)
    ref = float(total.max()) + _EPS
    bands = _db(sums @ _bands(sr) + ref * 1e-9) - _db(ref)
    m["bands"] = np.maximum(bands, -90.0).astype(np.float32)
    m["seg_db"] = np.maximum(_db(sums.sum(axis=1) + ref * 1e-9) - _db(ref), -90.0)
    allp = np.vstack([sums, total[None]])
    ssum = allp.sum(axis=1) + _EPS
    cents = (allp @ freqs) / ssum
    flats = np.exp(np.log(allp + ref * 1e-10).mean(axis=1)) / (ssum / allp.shape[1])
    for i, name in enumerate(("a", "b", "c", "d", "")):
        m[f"centroid{name}"] = float(cents[i])
        m[f"flat{name}"] = float(flats[i])
    cum = np.cumsum(total)
    m["rolloff"] = float(freqs[min(int(np.searchsorted(cum, 0.85 * cum[-1])), freqs.size - 1)])
    m["low_frac"] = float(total[freqs < 150].sum() / (total.sum() + _EPS))
    # Band edge: highest frequency still within 60 dB of the loudest bin.
    # Peakiness per octave (max over mean, dB) of attack and of the rest: pings, bells, rings.
    two = _db(np.vstack([sums[0], sums[1:].sum(axis=0)]) + ref * 1e-9)[:, _OCT_LO:]
    cons = (
        np.maximum.reduceat(two, _OCT_IDX, axis=1)
        - np.add.reduceat(two, _OCT_IDX, axis=1) / _OCT_LEN
    )
    m["contrast"] = cons.ravel().astype(np.float32)
    tdb = _db(total) - _db(ref)
    above = np.flatnonzero(tdb > -60.0)
    m["edge_hz"] = float(freqs[above[-1]]) if above.size else 0.0
    # How hard the spectrum falls at that edge: a brick-wall (resampled, lo-fi) copy keeps
    # level right up to it, a natural sound slopes into it.
    e = above[-1] if above.size else 0
    m["cliff_db"] = float(tdb[e // 2 : e + 1].mean() + 60.0) if e >= 4 else 0.0
    # Tail flatness: quietest quarter of frames, where hiss and crackle show.
    fe = power.sum(axis=1)
    q = fe <= np.partition(fe, fe.size // 4)[fe.size // 4]
    tail = power[q].mean(axis=0) + ref * 1e-12
    m["tail_flat"] = float(np.exp(np.log(tail).mean()) / tail.mean())


def _patch_frames(y: np.ndarray, s0: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """The N_FFT-sample frames at PATCH_TIMES after `s0` that start inside the sound (the
    first always; one that runs over the end is zero-padded), and which times they are."""
    idx = s0 + (np.asarray(PATCH_TIMES) * sr).astype(np.int64)
    inside = idx < y.size
    inside[0] = True
    idx = idx[inside]
    yp = np.concatenate([y, np.zeros(N_FFT, np.float32)]) if idx[-1] + N_FFT > y.size else y
    return yp[idx[:, None] + np.arange(N_FFT)], inside


def _patch(power: np.ndarray, inside: np.ndarray, sr: int) -> np.ndarray:
    """(len(PATCH_TIMES), N_BANDS) band levels in dB under the loudest cell, floored; times
    past the end of the sound read as the floor."""
    b = _db(power @ _bands(sr) + 1e-10)
    out = np.full((inside.size, N_BANDS), PATCH_FLOOR_DB, np.float32)
    out[inside] = np.maximum(b - b.max(), PATCH_FLOOR_DB)
    return out


def _pitch(y: np.ndarray, i0: int, sr: int, m: dict) -> None:
    """Strongest low peak of the body (skipping the first 15 ms of click)."""
    a = i0 + int(0.015 * sr)
    seg = y[a : a + 4096]
    if seg.size < 512:
        seg = y[i0 : i0 + 4096]
    w = _window(seg.size) if seg.size else seg
    p = np.abs(np.fft.rfft(seg * w, PITCH_FFT)) ** 2
    f = np.arange(p.size) * sr / PITCH_FFT
    lo, hi = int(30 * PITCH_FFT / sr), int(1500 * PITCH_FFT / sr)
    band = p[lo:hi]
    if band.size < 3 or float(band.max()) <= 0:
        m["pitch_hz"], m["tonal_db"] = 0.0, 0.0
        return
    k = int(np.argmax(band))
    if 0 < k < band.size - 1:
        al, be, ga = np.log(band[k - 1 : k + 2] + _EPS)
        off = 0.5 * (al - ga) / (al - 2 * be + ga) if (al - 2 * be + ga) != 0 else 0.0
    else:
        off = 0.0
    m["pitch_hz"] = float(f[lo + k] + off * sr / PITCH_FFT)
    wide = p[lo : int(6000 * PITCH_FFT / sr)]
    mid = wide.size // 2
    # The floor is relative (100 dB under the peak), so a quieter copy reads the same.
    floor = float(band[k]) * 1e-10 + _EPS
    m["tonal_db"] = float(_db(band[k]) - _db(float(np.partition(wide, mid)[mid]) + floor))
    m["pitch_share"] = float(band[max(k - 8, 0) : k + 9].sum() / (p.sum() + _EPS))


def feature_vector(m: dict, duration: float) -> np.ndarray:
    """The classifier's input: spectral shape per segment plus envelope and pitch numbers."""
    logt = [np.log10(max(m[k], 1e-3)) for k in ("attack", "t6", "t12", "t20", "t30", "t40")]
    extra = [
        *logt,
        np.log2(max(m["centroida"], 20.0)),
        np.log2(max(m["centroidb"], 20.0)),
        np.log2(max(m["centroidc"], 20.0)),
        np.log2(max(m["rolloff"], 20.0)),
        np.log10(m["flata"] + 1e-6),
        np.log10(m["flatb"] + 1e-6),
        np.log10(m["flatc"] + 1e-6),
        m["zcr"],
        m["bursts"],
        m["wobble"] / 10.0,
        m["crest_db"] / 10.0,
        m["tonal_db"] / 10.0,
        np.log2(max(m["pitch_hz"], 20.0)),
        m.get("pitch_share", 0.0),
        m["floor_db"] / 20.0,
        m["low_frac"],
        np.log10(min(max(duration, 0.01), 10.0)),
    ]
    segs = m["seg_db"] / 20.0
    bands = m["bands"].ravel() / 20.0
    patch = m["patch"].ravel() / 20.0
    return np.concatenate(
        [bands, segs, m["contrast"] / 10.0, np.asarray(extra, dtype=np.float32), patch]
    ).astype(np.float32)
