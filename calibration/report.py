"""The commissioning report: one self-contained HTML file a technician can hand over.

Page one is the summary (who, when, which box and lift, what was calibrated, verdicts);
then the figures as embedded PNGs: vibration spectra with the rope strand and sheave order
lines and the baseline's band limits, trip speed profiles, ride-quality figures and noise
levels. matplotlib (Agg, no display) is imported here only, lazily: the agent never loads it.

Every figure also returns the positions it drew (`Figure.marks`), so tests check that an
order line sits at the frequency the lift geometry predicts.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from agent.detectors import spectra
from agent.detectors.baseline import Baseline
from agent.detectors.geometry import LiftGeometry
from agent.detectors.scoring import NoiseLimits, RideLimits
from calibration.document import atomic_write
from calibration.trips import TripRecord

ROPE_FEATURES = {1: "rope.strand_prom", 2: "rope.h2_prom", 3: "rope.h3_prom"}


@dataclass
class Figure:
    name: str
    title: str
    png: bytes
    marks: dict[str, list[float]] = field(default_factory=dict)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a box or in CI
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def spectrum_figure(rec: TripRecord, geometry: LiftGeometry, baseline: Baseline | None,
                    warning_score: float) -> Figure | None:
    if rec.spectrum is None:
        return None
    f, p = rec.spectrum
    v = rec.cruise_speed
    strand, sheave = geometry.strand_hz(v), geometry.sheave_hz(v)
    df = float(f[1] - f[0])
    plt = _pyplot()
    fig, (ax, low) = plt.subplots(2, 1, figsize=(9, 6.5), height_ratios=(3, 2))
    top = min(3.6 * strand, float(f[-1]))
    m = (f > 0) & (f <= top)
    ax.semilogy(f[m], p[m], lw=0.8, color="0.2", label="vibration PSD (sum of axes)")
    marks: dict[str, list[float]] = {"strand_orders_hz": [], "sheave_orders_hz": [],
                                     "band_limits_hz": []}
    for k, feature in ROPE_FEATURES.items():
        c = k * strand
        if c > top:
            continue
        ax.axvline(c, color="tab:red", lw=1, ls="--", alpha=0.8,
                   label="rope strand orders" if k == 1 else None)
        marks["strand_orders_hz"].append(c)
        stat = baseline.stat(feature, v) if baseline is not None else None
        if stat is None:
            continue
        from agent.detectors.baseline import spec_for

        half = max(2.5 * df, 0.002 * c) * k
        floor = spectra.floor_density(f, p, c * 0.85, c * 1.15, [(c - half, c + half)])
        limit_db = stat.median + warning_score * stat.scale(spec_for(feature))
        level = floor * 10 ** (limit_db / 10)  # PSD a band at the warning prominence reaches
        ax.fill_betweenx([floor, level], c - half, c + half, color="tab:orange", alpha=0.25,
                         label="baseline band limit (warning)" if k == 1 else None)
        ax.hlines(level, c - 4 * half, c + 4 * half, color="tab:orange", lw=2)
        marks["band_limits_hz"].append(c)
    # the sheave turns a few times a second: its orders get their own low-frequency panel
    lm = (f > 0) & (f <= 6 * sheave)
    low.semilogy(f[lm], p[lm], lw=0.8, color="0.2")
    for k in range(1, 5):
        low.axvline(k * sheave, color="tab:blue", lw=1, ls=":",
                    label="sheave orders 1-4" if k == 1 else None)
        marks["sheave_orders_hz"].append(k * sheave)
    low.set_xlim(0, 6 * sheave)
    low.set_xlabel("frequency (Hz)")
    low.set_ylabel("(m/s^2)^2/Hz")
    low.legend(loc="upper right", fontsize=8)
    low.grid(alpha=0.3)
    ax.set_xlim(0, top)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("(m/s^2)^2/Hz")
    ax.set_title(f"trip {rec.index}: car at {v:.2f} m/s, strand order {strand:.1f} Hz, "
                 f"sheave {sheave:.2f} Hz")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return Figure(f"spectrum_trip{rec.index}", "Vibration spectrum and order lines",
                  _png(fig), marks)


def speed_figure(trips: Sequence[TripRecord]) -> Figure:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    for r in trips:
        style = {"color": "tab:red", "ls": "--"} if r.rejected else {"alpha": 0.8}
        ax.plot(r.speed_t, r.speed_v, lw=1, label=f"trip {r.index}"
                + (" (rejected)" if r.rejected else ""), **style)
    ax.set_xlabel("time from start of trip (s)")
    ax.set_ylabel("speed (m/s)")
    ax.set_title("Trip speed profiles (controller)")
    ax.grid(alpha=0.3)
    if len(trips) <= 12:
        ax.legend(fontsize=7, ncol=2)
    return Figure("speed_profiles", "Trip speed profiles", _png(fig),
                  {"peak_speeds_mps": [float(r.peak_speed) for r in trips]})


def ride_figure(trips: Sequence[TripRecord], limits: RideLimits) -> Figure | None:
    rows = [r for r in trips if r.ride and not r.rejected]
    if not rows:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    x = np.arange(len(rows))
    keys = [("vertical_max_pk_pk", limits.vertical_max_pk_pk),
            ("vertical_a95", limits.vertical_a95),
            ("horizontal_max_pk_pk", limits.horizontal_max_pk_pk),
            ("horizontal_a95", limits.horizontal_a95)]
    for i, (k, lim) in enumerate(keys):
        vals = [r.ride.get(k, np.nan) for r in rows]
        bars = ax.bar(x + (i - 1.5) * 0.2, vals, 0.2, label=k.replace("_", " "))
        ax.hlines(lim, x[0] - 0.5, x[-1] + 0.5, colors=bars.patches[0].get_facecolor(),
                  linestyles="--", lw=1)
    ax.set_xticks(x, [str(r.index) for r in rows])
    ax.set_xlabel("trip")
    ax.set_ylabel("m/s^2 (ISO 8041 weighted)")
    ax.set_title("Ride quality (ISO 18738-1), dashed: configured limits")
    ax.legend(fontsize=7)
    return Figure("ride_quality", "Ride quality", _png(fig),
                  {"limits": [lim for _, lim in keys]})


def noise_figure(trips: Sequence[TripRecord], background_dba: float | None,
                 limits: NoiseLimits) -> Figure | None:
    run = [(r.index, r.laeq) for r in trips if r.laeq is not None and not r.rejected]
    if not run and background_dba is None:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.5))
    labels, values = [], []
    if background_dba is not None:
        labels.append("background")
        values.append(background_dba)
    for i, v in run:
        labels.append(f"trip {i}")
        values.append(v)
    ax.bar(range(len(values)), values, color=["0.5"] + ["tab:blue"] * len(run)
           if background_dba is not None else "tab:blue")
    ax.axhline(limits.running_dba, color="tab:red", ls="--", lw=1, label="running limit")
    ax.set_xticks(range(len(values)), labels, rotation=45, fontsize=7)
    ax.set_ylabel("L_Aeq dB(A)")
    ax.set_ylim(min(values + [limits.running_dba]) - 10, max(values + [limits.running_dba]) + 5)
    ax.set_title("Noise levels (machine room)")
    ax.legend(fontsize=8)
    return Figure("noise_levels", "Noise levels", _png(fig), {"levels_dba": values})


def summary_rows(doc: Mapping[str, Any], trips: Sequence[TripRecord],
                 verdicts: Mapping[str, str]) -> list[tuple[str, str]]:
    rows = [("lift", f"{doc.get('site')}/{doc.get('lift')} (box {doc.get('box_id')})"),
            ("calibration", f"version {doc.get('version')}, {doc.get('created')}, by "
                            f"{doc.get('technician')}"),
            ("checksum", str(doc.get("checksum", ""))),
            ("signature", (f"Ed25519, key {doc['signature']['key_id']}"
                           if doc.get("signature") else "not signed"))]
    c = doc.get("controller") or {}
    if c:
        rows.append(("controller", f"profile {c.get('profile')}, rated speed "
                                   f"{c.get('rated_speed_mps')} m/s, {c.get('floors')} floors"))
    a = doc.get("accel") or {}
    if a:
        rows.append(("accelerometer", f"vertical axis {a.get('vertical_axis')}, tilt "
                                      f"{a.get('tilt_deg')} deg; "
                                      + ("; ".join(a.get("warnings", [])) or "no warnings")))
    n = doc.get("noise") or {}
    if n:
        rows.append(("microphone", f"correction {n.get('correction_db')} dB at "
                                   f"{n.get('reference_db')} dB SPL; background "
                                   f"{n.get('background_dba')} dB(A)"))
    if trips:
        ok = sum(1 for r in trips if not r.rejected)
        rows.append(("baseline trips", f"{ok} accepted, {len(trips) - ok} rejected"))
    rows += [(k, v) for k, v in verdicts.items()]
    return rows


def render(path: str | Path, doc: Mapping[str, Any], trips: Sequence[TripRecord],
           geometry: LiftGeometry, *, baseline: Baseline | None = None,
           warning_score: float = 5.0, ride_limits: RideLimits | None = None,
           noise_limits: NoiseLimits | None = None,
           verdicts: Mapping[str, str] | None = None) -> list[Figure]:
    """Write the report to `path` atomically; returns the figures it holds."""
    ride_limits = ride_limits or RideLimits()
    noise_limits = noise_limits or NoiseLimits()
    figures: list[Figure] = []
    accepted = [r for r in trips if not r.rejected and r.spectrum is not None]
    if accepted:
        fastest = max(accepted, key=lambda r: r.cruise_speed)
        fig = spectrum_figure(fastest, geometry, baseline, warning_score)
        if fig is not None:
            figures.append(fig)
    if trips:
        figures.append(speed_figure(trips))
    for fig_or_none in (ride_figure(trips, ride_limits),
                        noise_figure(trips, (doc.get("noise") or {}).get("background_dba"),
                                     noise_limits)):
        if fig_or_none is not None:
            figures.append(fig_or_none)
    atomic_write(Path(path), page(doc, trips, figures, verdicts or {}).encode("utf-8"))
    return figures


def page(doc: Mapping[str, Any], trips: Sequence[TripRecord], figures: Sequence[Figure],
         verdicts: Mapping[str, str]) -> str:
    e = html.escape
    summary = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>"
                      for k, v in summary_rows(doc, trips, verdicts))
    imgs = "".join(
        f'<section><h2>{e(f.title)}</h2><img alt="{e(f.name)}" '
        f'src="data:image/png;base64,{base64.b64encode(f.png).decode()}"></section>'
        for f in figures)
    trip_rows = "".join(
        f"<tr><td>{r.index}</td><td>{r.peak_speed:.2f}</td><td>{r.end - r.start:.1f}</td>"
        f"<td>{e(r.rejected or 'accepted')}</td></tr>" for r in trips)
    trips_html = (f"<h2>Trips</h2><table><tr><th>#</th><th>peak m/s</th><th>s</th>"
                  f"<th>verdict</th></tr>{trip_rows}</table>") if trips else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>liftguard commissioning report {e(str(doc.get('site')))}/{e(str(doc.get('lift')))}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:auto}}
table{{border-collapse:collapse}}th,td{{border:1px solid #999;padding:2px 8px;text-align:left}}
.summary{{page-break-after:always}}img{{max-width:100%}}</style></head><body>
<div class="summary"><h1>Commissioning report</h1><table>{summary}</table></div>
{imgs}{trips_html}
</body></html>
"""
