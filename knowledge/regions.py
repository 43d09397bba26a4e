"""The gazetteer of data/regions.yml expanded into region records and every name people may type for them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from knowledge.datafiles import load_yaml
from knowledge.paths import DATA_DIR

SUFFIXES = ("土家族苗族自治州", "自治州", "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "林区",
            "市", "县", "区", "省")


@dataclass
class Region:
    id: str  # 湖南省/衡阳市/耒阳市
    name: str
    level: str  # province | city | county
    province: str
    city: str | None
    document: str | None  # None: not covered by the documents
    unit: str | None  # the office name the city's document uses for this region
    names: set[str] = field(default_factory=set)


def _short_form(name: str) -> str | None:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def _region(region_id: str, entry: dict[str, Any], level: str, province: str, city: str | None,
            document: str | None, unit: str | None) -> Region:
    region = Region(region_id, entry["name"], level, province, city, document, unit)
    region.names = {entry["name"], *entry.get("aliases", [])}
    return region


def load_regions() -> list[Region]:
    data = load_yaml(DATA_DIR / "regions.yml")
    regions: list[Region] = []
    no_short: set[str] = set()
    for province in data["provinces"]:
        pname = province["name"]
        regions.append(_region(pname, province, "province", pname, None, province["document"], None))
        for city in province["cities"]:
            city_id = f"{pname}/{city['name']}"
            city_region = _region(city_id, city, "city", pname, city["name"], city["document"], city.get("unit"))
            city_region.names |= set(city.get("unit_aliases", []))
            regions.append(city_region)
            for county in city.get("counties", []):
                regions.append(_region(f"{city_id}/{county['name']}", county, "county", pname, city["name"],
                                       city["document"], county["name"]))
                if county.get("no_short"):
                    no_short.add(regions[-1].id)
    for province in data["other_provinces"]:
        pname = province["name"]
        regions.append(_region(pname, province, "province", pname, None, None, None))
        for city in province["cities"]:
            regions.append(_region(f"{pname}/{city}", {"name": city}, "city", pname, city, None, None))
    _add_short_forms(regions)
    for region in regions:
        if region.id in no_short:
            region.names.discard(_short_form(region.name))
    return regions


def _add_short_forms(regions: list[Region]) -> None:
    """Add 耒阳 for 耒阳市 etc. where the short form is unambiguous; cities win over counties (衡阳 → 衡阳市)."""
    for levels in (("province", "city"), ("county",)):
        taken: dict[str, int] = {}
        for region in regions:
            shorts = {_short_form(region.name)} if region.level in levels else set()
            for name in region.names | shorts:
                taken[name] = taken.get(name, 0) + 1
        for region in regions:
            short = _short_form(region.name)
            if region.level in levels and short and taken.get(short) == 1:
                region.names.add(short)


def ambiguous_names(regions: list[Region]) -> dict[str, list[str]]:
    """Names that more than one region carries (高新区 in 衡阳 and 长沙), with the ids of those regions."""
    owners: dict[str, list[str]] = {}
    for region in regions:
        for name in region.names:
            owners.setdefault(name, []).append(region.id)
    return {name: ids for name, ids in owners.items() if len(ids) > 1}
