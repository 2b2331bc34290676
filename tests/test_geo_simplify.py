"""Display simplification keeps shared edges shared and every geometry valid."""

import pytest
import shapely
from shapely.geometry import Point

from geo import boundaries, geodesy
from geo.simplify import coordinate_count, simplify_background, simplify_for_display


def test_coverage_keeps_neighbours_without_gaps_or_overlaps():
    codes = ["310115", "310120", "310112"]  # Pudong, Fengxian, Minhang share borders
    full = [boundaries.geometry(c) for c in codes]
    simple = simplify_for_display(full, 0.005, coverage=True)
    assert all(g.is_valid for g in simple)
    assert coordinate_count(simple) < coordinate_count(full) / 2
    overlap = sum(geodesy.area_km2(simple[i].intersection(simple[j]))
                  for i in range(3) for j in range(i + 1, 3))
    assert overlap < 0.01
    assert geodesy.area_km2(shapely.union_all(list(simple))) == pytest.approx(
        geodesy.area_km2(shapely.union_all(full)), rel=0.02)


def test_overlapping_features_are_simplified_one_by_one():
    asean_part = boundaries.union(["SGP", "MYS"])
    singapore = boundaries.geometry("SGP")
    simple = simplify_for_display([asean_part, singapore], 0.01)
    assert all(g.is_valid and not g.is_empty for g in simple)
    assert coordinate_count(simple) < coordinate_count([asean_part, singapore])


def test_points_pass_through_and_nothing_vanishes():
    tiny = boundaries.geometry("820000")  # Macao is smaller than most tolerances
    point = Point(113.5, 22.2)
    simple = simplify_for_display([point, tiny], 0.05)
    assert simple[0].equals(point)
    assert not simple[1].is_empty and simple[1].is_valid


def test_background_simplification_is_valid():
    simple = simplify_background(boundaries.geometry_unrepaired("IDN"), 0.05)
    assert simple.is_valid and coordinate_count([simple]) < 20_000
