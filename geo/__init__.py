"""Geometry that knows nothing of policy: boundaries, CRS, geodesy, GIS formats."""
