"""The offline gazetteer: Cà Mau addresses to units, with geopy's Geocoder interface."""

from __future__ import annotations

import pytest
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from geo.coords import LatLon
from geo.gazetteer import Gazetteer, make_geocoder, normalize
from geo.geography import camau


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """One gazetteer over the embedded data, shared by the module (it is read-only)."""
    return Gazetteer()


def _one(g: Gazetteer, query: str) -> Location:
    loc = g.geocode(query)
    assert isinstance(loc, Location), query
    return loc


def test_normalize_folds_vietnamese() -> None:
    """Diacritics, đ, case, punctuation and runs of spaces are folded away."""
    assert normalize("  Xã ĐẤT Mũi,  huyện Ngọc-Hiển ") == "xa dat mui, huyen ngoc hien"
    assert normalize("Thị trấn Sông Đốc") == "thi tran song doc"
    assert normalize("P.9") == "p 9"


@pytest.mark.parametrize(
    ("query", "era", "code", "precision"),
    [
        # The two examples of the brief.
        ("ấp 3, xã Khánh Bình, huyện Trần Văn Thời, Cà Mau", "2024", "32110", "ward"),
        ("Phường Tân Thành, Cà Mau", "2025", "32025", "ward"),
        # Without diacritics, without commas, with abbreviations.
        ("ap 3 xa khanh binh huyen tran van thoi ca mau", "2024", "32110", "ward"),
        ("phuong tan thanh, ca mau", "2025", "32025", "ward"),
        ("P.9, TP Cà Mau", "2024", "31999", "ward"),
        ("p9 tp ca mau", "2024", "31999", "ward"),
        ("Phường 09, Thành phố Cà Mau, tỉnh Cà Mau", "2024", "31999", "ward"),
        ("TT. Sông Đốc, H. Trần Văn Thời, T. Cà Mau", "2024", "32098", "ward"),
        ("X. Đất Mũi, H. Ngọc Hiển", "2024", "32248", "ward"),
        # The same name in two eras, told apart by the district or by the kind.
        ("Xã Tân Thành, TP Cà Mau", "2024", "32026", "ward"),
        ("Phường Tân Thành, TP Cà Mau", "2024", "32025", "ward"),
        # New units and a ward of old Bạc Liêu.
        ("Xã Đá Bạc, Cà Mau", "2025", "32104", "ward"),
        ("xa phan ngoc hien", "2025", "32244", "ward"),
        ("Phường Bạc Liêu, tỉnh Cà Mau", "2025", "31825", "ward"),
        ("Khóm 5, phường Hiệp Thành, Cà Mau, Việt Nam", "2025", "31840", "ward"),
        # District only.
        ("Huyện U Minh, Cà Mau", "2024", "966", "district"),
        ("huyen dam doi", "2024", "970", "district"),
        ("ấp Kinh Tư, huyện Năm Căn", "2024", "971", "district"),
    ],
)
def test_addresses_resolve_to_the_right_unit(
    gazetteer: Gazetteer, query: str, era: str, code: str, precision: str
) -> None:
    """Old and new names, with and without diacritics, resolve to the unit named in the raw."""
    loc = _one(gazetteer, query)
    assert (loc.raw["era"], loc.raw["code"], loc.raw["precision"]) == (era, code, precision)
    assert LatLon(loc.latitude, loc.longitude).in_vietnam()


def test_answer_says_district_and_current_ward(gazetteer: Gazetteer) -> None:
    """An old commune's answer names its district and the 2025 ward that took it over."""
    loc = _one(gazetteer, "ấp 3, xã Khánh Bình, huyện Trần Văn Thời, Cà Mau")
    assert loc.address == "Xã Khánh Bình, Huyện Trần Văn Thời, Cà Mau"
    assert loc.raw["district"] == "Huyện Trần Văn Thời"
    assert loc.raw["wards_2025"] == ["32110"]
    new = _one(gazetteer, "Xã Khánh Bình, Cà Mau")
    assert new.raw["era"] == "2025"
    assert new.raw["district"] == "Huyện Trần Văn Thời"


def test_every_old_commune_resolves_with_its_district(gazetteer: Gazetteer) -> None:
    """Each of the 101 communes of 2024, named with its district, with and without diacritics."""
    for commune in camau().communes.values():
        for query in (
            f"{commune.full_name}, {commune.district}, Cà Mau",
            normalize(f"{commune.full_name}, {commune.district}, Cà Mau"),
        ):
            loc = _one(gazetteer, query)
            assert (loc.raw["era"], loc.raw["code"]) == ("2024", commune.code), query


def test_every_new_ward_resolves_by_its_name(gazetteer: Gazetteer) -> None:
    """Each of the 64 wards of 2025, written the 2025 way (no district), resolves to itself."""
    for ward in camau().wards.values():
        for query in (f"{ward.full_name}, Cà Mau", normalize(f"{ward.full_name}, tỉnh Cà Mau")):
            loc = _one(gazetteer, query)
            assert (loc.raw["era"], loc.raw["code"]) == ("2025", ward.code), query
            assert (loc.latitude, loc.longitude) == (ward.point.lat, ward.point.lon)


@pytest.mark.parametrize(
    "query",
    [
        "Hà Nội",
        "Phường 9, Quận 3, TP Hồ Chí Minh",
        "phường Tân Thành, tỉnh Long An",
        "xã Khánh Bình, huyện Đầm Dơi",  # Khánh Bình is in Trần Văn Thời, not Đầm Dơi
        "xã Không Có Thật, Cà Mau",
        "",
    ],
)
def test_unknown_addresses_give_none(gazetteer: Gazetteer, query: str) -> None:
    """Nothing matching is geopy's None, never a guess or (0, 0)."""
    assert gazetteer.geocode(query) is None
    assert gazetteer.geocode(query, exactly_one=False) is None


def test_ambiguous_names_list_every_candidate(gazetteer: Gazetteer) -> None:
    """ "Tân Thành" alone: the 2025 ward first, then both old units of that name."""
    found = gazetteer.geocode("Tân Thành", exactly_one=False)
    assert isinstance(found, list)
    assert [(loc.raw["era"], loc.raw["code"]) for loc in found] == [
        ("2025", "32025"),
        ("2024", "32025"),
        ("2024", "32026"),
    ]


def test_query_must_be_text(gazetteer: Gazetteer) -> None:
    """A non-string query is a ValueError naming it."""
    with pytest.raises(ValueError, match="42"):
        gazetteer.geocode(42)  # type: ignore[arg-type]


def test_reverse_names_ward_and_old_district(gazetteer: Gazetteer) -> None:
    """reverse() of the provincial centre names its ward and old district; the sea gives None."""
    for query in ("9.1769, 105.1524", (9.1769, 105.1524), LatLon(9.1769, 105.1524)):
        loc = gazetteer.reverse(query)
        assert isinstance(loc, Location)
        assert loc.raw["code"] == "32025"
        assert loc.raw["district"] == "Thành phố Cà Mau"
        assert loc.raw["district_exact"] is True
        assert (loc.latitude, loc.longitude) == (9.1769, 105.1524)
    assert gazetteer.reverse((9.1769, 104.40)) is None
    assert gazetteer.reverse("9.1769, 104.40", exactly_one=False) is None
    with pytest.raises(ValueError, match="nan"):
        gazetteer.reverse((float("nan"), 105.0))
    with pytest.raises(ValueError, match="lat, lon"):
        gazetteer.reverse("somewhere")


def test_geocode_then_reverse_round_trips(gazetteer: Gazetteer) -> None:
    """Geocoding a 2025 ward and reversing its point gives the same ward back."""
    for ward in list(camau().wards.values())[::7]:
        loc = _one(gazetteer, ward.full_name)
        back = gazetteer.reverse((loc.latitude, loc.longitude))
        assert isinstance(back, Location)
        assert back.raw["code"] == ward.code


def test_make_geocoder_swaps_by_configuration() -> None:
    """'gazetteer' is the offline one; a geopy name gives that geopy class (no request made)."""
    g = make_geocoder("gazetteer")
    assert isinstance(g, Gazetteer)
    assert isinstance(g, Geocoder)
    nominatim = make_geocoder("nominatim", user_agent="buuta-tests")
    assert isinstance(nominatim, Nominatim)
    with pytest.raises(ValueError, match="unknown geocoder 'atlantis'"):
        make_geocoder("atlantis")
