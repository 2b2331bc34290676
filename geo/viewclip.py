"""Geometry cut to a view: only what a map of that view shows, at the detail it resolves.

A drawing library handed a whole layer draws all of it, at any scale: matplotlib dashes
a filled outline along its whole length before clipping to the page, so at street scale
one dashed province outline becomes millions of dashes. Cut to the view (with a margin,
so the cut edges stay off the page) and simplified to about a pixel, a layer costs what
the view shows, whatever the scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely


@dataclass(frozen=True)
class ViewClip:
    """Geometry cut for one view: a rectangle (in the frame's units), a simplification
    tolerance and the most vertices one frame may keep."""

    bounds: tuple[float, float, float, float]
    tolerance: float
    max_vertices: int


def clipped(frame: gpd.GeoDataFrame, clip: ViewClip) -> gpd.GeoDataFrame:
    """The rows of `frame` that reach into the clip rectangle, their geometry cut to it and
    simplified to the tolerance: what a view shows, at the detail its pixels resolve.

    A layer left with more than `max_vertices` is simplified further, fourfold at a time
    and without keeping topology, so islets below the tolerance vanish (rings a pixel
    across are what keep a topology-preserving simplification from getting smaller).
    """
    geometry = np.asarray(frame.geometry.array)
    cut = shapely.clip_by_rect(geometry, *clip.bounds)
    out = shapely.simplify(cut, clip.tolerance, preserve_topology=True)
    tolerance = clip.tolerance
    for _ in range(8):
        if shapely.get_num_coordinates(out).sum() <= clip.max_vertices:
            break
        tolerance *= 4
        out = shapely.simplify(cut, tolerance, preserve_topology=False)
    keep = ~(shapely.is_empty(out) | shapely.is_missing(out))
    frame = frame[keep].copy()
    frame[frame.geometry.name] = gpd.array.from_shapely(out[keep], crs=frame.crs)
    return frame
