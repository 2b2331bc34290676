"""GCJ-02 ↔ WGS84, vectorised.

GCJ-02 is the obfuscated datum that Chinese map providers (Amap among them) publish
coordinates in. It is WGS84 plus a smooth, deterministic offset of a few hundred metres.
The forward transform (WGS84 → GCJ-02) is the published formula; the inverse has no
closed form, so `gcj02_to_wgs84` solves it by fixed-point iteration, which converges to
well under a millimetre in a few steps (a single step, as many libraries do, leaves
errors of 1–2 m).

Coordinates outside the area the offset applies to (a box round China) pass through
unchanged, as in every reference implementation.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike

_A = 6378245.0  # semi-major axis of the Krasovsky ellipsoid used by the formula
_EE = 0.00669342162296594323  # its first eccentricity squared

# The box the offset is applied in (lon_min, lat_min, lon_max, lat_max).
CHINA_BOX = (72.004, 0.8293, 137.8347, 55.8271)


def _offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 offset (dlon, dlat) in degrees at WGS84 positions."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += common
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += common
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0

    radlat = np.radians(lat)
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def in_china_box(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """True where the GCJ-02 offset applies."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = CHINA_BOX
    return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 → GCJ-02 (the published forward formula)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _offset(lon, lat)
    inside = in_china_box(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, tolerance_deg: float = 1e-10, max_iterations: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS84 by iterating the forward formula to its fixed point.

    Starts from the one-step approximation and repeats `w ← w − (forward(w) − g)` until
    the largest residual is below `tolerance_deg` (1e-10° ≈ 0.01 mm).
    """
    g_lon = np.asarray(lon, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lon, w_lat = g_lon.copy(), g_lat.copy()
    for _ in range(max_iterations):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        r_lon, r_lat = f_lon - g_lon, f_lat - g_lat
        w_lon = w_lon - r_lon
        w_lat = w_lat - r_lat
        if r_lon.size == 0 or max(np.abs(r_lon).max(), np.abs(r_lat).max()) < tolerance_deg:
            break
    return w_lon, w_lat


def _on_coords(func):
    def apply(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return apply


def geometry_gcj02_to_wgs84(geometry):
    """A shapely geometry (or array of them) moved from GCJ-02 to WGS84, every vertex."""
    return shapely.transform(geometry, _on_coords(gcj02_to_wgs84))


def geometry_wgs84_to_gcj02(geometry):
    """A shapely geometry (or array of them) moved from WGS84 to GCJ-02, every vertex."""
    return shapely.transform(geometry, _on_coords(wgs84_to_gcj02))
