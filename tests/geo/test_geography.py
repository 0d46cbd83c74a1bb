"""The embedded geography, the ward lookup and the post offices' service areas, on the real data."""

from __future__ import annotations

import pytest
import shapely

from geo.areas import (
    DISTRICT_OFFICES,
    OutsideServiceArea,
    ServiceArea,
    ServiceAreas,
    WardIndex,
    district_service_areas,
    locate,
)
from geo.coords import LatLon
from geo.geography import camau


def test_counts_match_the_published_lists() -> None:
    """64 wards of 2025, 101 communes of 2024 in 9 districts, every ward with a polygon."""
    geo = camau()
    assert len(geo.wards) == 64
    assert len(geo.communes) == 101
    assert len(geo.districts) == 9
    assert sum(len(d.communes) for d in geo.districts.values()) == 101
    assert all(w.geometry.area > 0 for w in geo.wards.values())


def test_crosswalk_is_consistent_both_ways() -> None:
    """Each old commune's successors list it as a predecessor, and vice versa (old Cà Mau)."""
    geo = camau()
    for commune in geo.communes.values():
        assert commune.successors, commune.name
        for code in commune.successors:
            assert commune.code in geo.wards[code].predecessors, (commune.name, code)
    for ward in geo.wards.values():
        for code in ward.predecessors:
            if code in geo.communes:
                assert ward.code in geo.communes[code].successors, (ward.name, code)


def test_every_ward_point_resolves_back_to_its_ward() -> None:
    """The representative point of each of the 64 wards is located in that very ward."""
    geo = camau()
    strict = WardIndex(tolerance_m=0.0)
    for ward in geo.wards.values():
        assert locate(ward.point).ward.code == ward.code, ward.name
        assert strict.locate(ward.point).ward.code == ward.code, ward.name
    found = strict.wards_at([w.point for w in geo.wards.values()])
    assert [w.code for w in found if w] == list(geo.wards)


def test_old_commune_points_lie_in_a_successor_ward_of_the_same_district() -> None:
    """The coarse 2024 points sit inside one of the unit's 2025 successors, as PROVENANCE says."""
    geo = camau()
    for commune in geo.communes.values():
        match = locate(commune.point)
        assert match.ward.code in commune.successors, commune.name
        assert match.district is not None
        if match.district_exact:
            assert match.district.code == commune.district_code, commune.name


def test_district_of_a_point() -> None:
    """The centre of Cà Mau city is in old Thành phố Cà Mau; Đất Mũi in old Ngọc Hiển."""
    match = locate(LatLon(9.1769, 105.1524))
    assert match.district is not None
    assert match.district.name == "Thành phố Cà Mau"
    assert match.district_exact
    dat_mui = camau().wards["32248"]
    m2 = locate(dat_mui.point)
    assert m2.ward.name == "Đất Mũi"
    assert m2.district is not None
    assert m2.district.short_name == "Ngọc Hiển"


def test_old_bac_lieu_wards_have_no_old_district() -> None:
    """Wards of old Bạc Liêu are found, but no 2024 district is made up for them."""
    bac_lieu = camau().wards["31825"]
    match = locate(bac_lieu.point)
    assert match.ward.name == "Bạc Liêu"
    assert match.district is None


@pytest.mark.parametrize(
    "point",
    [
        LatLon(10.7769, 106.7009),  # Hồ Chí Minh City
        LatLon(8.40, 104.50),  # the Gulf of Thailand, west of Cà Mau cape
        LatLon(9.1769, 104.40),  # out at sea west of Cà Mau city
    ],
)
def test_points_outside_the_province_are_refused(point: LatLon) -> None:
    """Outside every ward: an OutsideServiceArea (a ValueError) naming the point, not a ward."""
    with pytest.raises(OutsideServiceArea, match=f"lat={point.lat!r}.*outside the service area"):
        locate(point)
    assert issubclass(OutsideServiceArea, ValueError)


def test_border_tolerance_is_small() -> None:
    """30 m west of the westernmost vertex of Đất Mũi is still Đất Mũi; 2 km out is the sea."""
    dat_mui = camau().wards["32248"]
    coords = shapely.get_coordinates(dat_mui.geometry)
    lon, lat = (float(v) for v in coords[coords[:, 0].argmin()])  # westernmost vertex
    assert locate(LatLon(lat, lon - 30 / 111_320)).ward.code == "32248"
    with pytest.raises(OutsideServiceArea):
        WardIndex(tolerance_m=0.0).locate(LatLon(lat, lon - 30 / 111_320))
    with pytest.raises(OutsideServiceArea):
        locate(LatLon(lat, lon - 2000 / 111_320))


def test_district_service_areas_partition_old_ca_mau() -> None:
    """Nine offices; every ward of old Cà Mau is served by exactly one; Bạc Liêu wards by none."""
    geo = camau()
    areas = district_service_areas()
    assert {a.office for a in areas.areas} == set(DISTRICT_OFFICES.values())
    served = [c for a in areas.areas for c in a.ward_codes]
    assert len(served) == len(set(served))
    old_ca_mau = {w.code for w in geo.wards.values() if geo.ward_districts(w.code)}
    assert set(served) == old_ca_mau
    for area in areas.areas:
        for code in area.ward_codes:
            assert areas.office_for(geo.wards[code].point) == area.office
            assert area.contains(geo.wards[code].point)


def test_office_for_names_the_unserved_ward() -> None:
    """A point in a ward no listed office serves gets an answer naming that ward."""
    areas = district_service_areas()
    with pytest.raises(OutsideServiceArea, match="no post office here serves Phường Bạc Liêu"):
        areas.office_for(camau().wards["31825"].point)
    tvt = areas.area("po-tvt")
    assert areas.office_for(camau().wards["32110"].point) == "po-tvt"  # Khánh Bình
    assert "32110" in tvt.ward_codes


def test_service_areas_are_validated() -> None:
    """A ward served twice, an unknown ward and an empty area are refused with the value named."""
    a = ServiceArea.from_wards("po-a", ["32110"])
    b = ServiceArea.from_wards("po-b", ["32110", "32095"])
    with pytest.raises(ValueError, match="'32110' is served by both 'po-a' and 'po-b'"):
        ServiceAreas([a, b])
    with pytest.raises(ValueError, match="no 2025 ward has code '99999'"):
        ServiceArea.from_wards("po-c", ["99999"])
    with pytest.raises(ValueError, match="no wards given"):
        ServiceArea.from_wards("po-d", [])
    with pytest.raises(ValueError, match="no service area for office 'po-z'"):
        ServiceAreas([a]).area("po-z")
