"""Vocabularies of testimony records and their generalisation hierarchies.

Provinces carry their Hangul, McCune–Reischauer and Revised Romanization names (the scanner
uses them too); topics map to HURIDOCS human-rights vocabulary labels.

>>> province_code("양강도"), province_code("Ryanggang"), province_code("Yanggang-do")
('ryanggang', 'ryanggang', 'ryanggang')
>>> age_band(34)
'30-39'
"""

from __future__ import annotations

import math
import unicodedata

from fenceline.errors import InputError

__all__ = [
    "AGE_BANDS",
    "BORDER_PROVINCES",
    "CONTACT_LEVELS",
    "OCCUPATIONS",
    "PLACES",
    "PROVINCES",
    "SEXES",
    "TOPICS",
    "age_band",
    "coarsen_place",
    "fold",
    "province_code",
]

#: code -> (English label, names in Hangul and romanised forms)
PROVINCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "north_hamgyong": (
        "North Hamgyong",
        (
            "함경북도",
            "함북",
            "North Hamgyong",
            "Hamgyong-bukto",
            "Hamgyŏng-bukto",
            "Hamgyeongbuk-do",
            "Hamgyongbuk-do",
            "North Hamgyeong",
        ),
    ),
    "south_hamgyong": (
        "South Hamgyong",
        (
            "함경남도",
            "함남",
            "South Hamgyong",
            "Hamgyong-namdo",
            "Hamgyŏng-namdo",
            "Hamgyeongnam-do",
            "South Hamgyeong",
        ),
    ),
    "ryanggang": (
        "Ryanggang",
        ("양강도", "량강도", "Ryanggang", "Yanggang", "Ryanggang-do", "Yanggang-do"),
    ),
    "chagang": ("Chagang", ("자강도", "Chagang", "Jagang", "Chagang-do", "Jagang-do")),
    "north_pyongan": (
        "North Pyongan",
        (
            "평안북도",
            "평북",
            "North Pyongan",
            "P'yongan-bukto",
            "P'yŏngan-bukto",
            "Pyonganbuk-do",
            "Pyeonganbuk-do",
            "North Pyeongan",
        ),
    ),
    "south_pyongan": (
        "South Pyongan",
        (
            "평안남도",
            "평남",
            "South Pyongan",
            "P'yongan-namdo",
            "P'yŏngan-namdo",
            "Pyongannam-do",
            "Pyeongannam-do",
            "South Pyeongan",
        ),
    ),
    "north_hwanghae": (
        "North Hwanghae",
        ("황해북도", "황북", "North Hwanghae", "Hwanghae-bukto", "Hwanghaebuk-do"),
    ),
    "south_hwanghae": (
        "South Hwanghae",
        ("황해남도", "황남", "South Hwanghae", "Hwanghae-namdo", "Hwanghaenam-do"),
    ),
    "kangwon": ("Kangwon", ("강원도", "Kangwon", "Kangwŏn", "Kangwon-do", "Gangwon")),
    "pyongyang": ("Pyongyang", ("평양", "Pyongyang", "P'yongyang", "P'yŏngyang", "Pyeongyang")),
    "rason": ("Rason", ("라선", "나선", "Rason", "Raseon", "Rajin-Sonbong", "Rajin", "Sonbong")),
    "nampo": ("Nampo", ("남포", "Nampo", "Namp'o")),
}

#: provinces on the northern border (the region level of the province hierarchy)
BORDER_PROVINCES = frozenset({"north_hamgyong", "ryanggang", "chagang", "north_pyongan", "rason"})

#: GeoNames admin1 codes of North Korea -> province code
_GEONAMES_ADMIN1 = {
    "01": "chagang",
    "03": "south_hamgyong",
    "06": "south_hwanghae",
    "07": "north_hwanghae",
    "09": "kangwon",
    "11": "north_pyongan",
    "12": "pyongyang",
    "13": "ryanggang",
    "14": "nampo",
    "15": "south_pyongan",
    "17": "north_hamgyong",
    "18": "rason",
}

#: towns and markets near the border (and a few beyond) in Hangul and romanised forms,
#: with their province (None: outside North Korea). Used by the scanner and to coarsen places.
PLACES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "hyesan": ("ryanggang", ("혜산", "Hyesan")),
    "samjiyon": ("ryanggang", ("삼지연", "Samjiyon", "Samjiyŏn", "Samjiyeon")),
    "kimjongsuk": ("ryanggang", ("김정숙군", "Kimjongsuk", "Kim Jong Suk county")),
    "pochon": ("ryanggang", ("보천", "Pochon", "Pochŏn", "Bocheon")),
    "taehongdan": ("ryanggang", ("대홍단", "Taehongdan", "Daehongdan")),
    "kapsan": ("ryanggang", ("갑산", "Kapsan", "Gapsan")),
    "unhung": ("ryanggang", ("운흥", "Unhung", "Unhŭng")),
    "hoeryong": ("north_hamgyong", ("회령", "Hoeryong", "Hoeryŏng", "Hoeryeong")),
    "musan": ("north_hamgyong", ("무산", "Musan")),
    "onsong": ("north_hamgyong", ("온성", "Onsong", "Onsŏng", "Onseong")),
    "namyang": ("north_hamgyong", ("남양", "Namyang")),
    "kyongwon": ("north_hamgyong", ("경원", "새별", "Kyongwon", "Kyŏngwŏn", "Saebyol", "Saebyŏl")),
    "chongjin": ("north_hamgyong", ("청진", "Chongjin", "Ch'ŏngjin", "Cheongjin")),
    "kimchaek": ("north_hamgyong", ("김책", "Kimchaek", "Gimchaek")),
    "hamhung": ("south_hamgyong", ("함흥", "Hamhung", "Hamhŭng", "Hamheung")),
    "sinuiju": ("north_pyongan", ("신의주", "Sinuiju", "Sinŭiju")),
    "uiju": ("north_pyongan", ("의주", "Uiju", "Ŭiju")),
    "sakju": ("north_pyongan", ("삭주", "Sakju", "Sakchu")),
    "pyoktong": ("north_pyongan", ("벽동", "Pyoktong", "Pyŏktong", "Byeokdong")),
    "chosan": ("chagang", ("초산", "Chosan", "Ch'osan")),
    "manpo": ("chagang", ("만포", "Manpo", "Manp'o")),
    "kanggye": ("chagang", ("강계", "Kanggye", "Ganggye")),
    "chasong": ("chagang", ("자성", "Chasong", "Chasŏng", "Jaseong")),
    "junggang": ("chagang", ("중강", "Junggang", "Chunggang")),
    "wonsan": ("kangwon", ("원산", "Wonsan", "Wŏnsan")),
    "haeju": ("south_hwanghae", ("해주", "Haeju")),
    "sariwon": ("north_hwanghae", ("사리원", "Sariwon", "Sariwŏn")),
    "pyongsong": ("south_pyongan", ("평성", "Pyongsong", "P'yŏngsŏng")),
    "dandong": (None, ("단동", "단둥", "Dandong", "Tantung")),
    "changbai": (None, ("장백", "창바이", "Changbai")),
    "tumen_cn": (None, ("도문", "투먼", "Tumen")),
    "yanji": (None, ("연길", "옌지", "Yanji")),
    "yanbian": (None, ("연변", "옌볜", "Yanbian")),
    "hunchun": (None, ("훈춘", "Hunchun")),
    "jian": (None, ("집안", "지안", "Ji'an", "Jian")),
    "linjiang": (None, ("임강", "린장", "Linjiang")),
    "longjing": (None, ("용정", "룽징", "Longjing")),
    "helong": (None, ("화룡", "허룽", "Helong")),
    "shenyang": (None, ("심양", "선양", "Shenyang")),
}

SEXES: tuple[str, ...] = ("female", "male")
AGE_BANDS: tuple[str, ...] = ("18-29", "30-39", "40-49", "50-59", "60+")
#: age band -> its 20-year band (level 1 of the age hierarchy)
AGE_BANDS_WIDE: dict[str, str] = {
    "18-29": "18-39",
    "30-39": "18-39",
    "40-49": "40-59",
    "50-59": "40-59",
    "60+": "60+",
}
#: occupation -> (noun used in descriptors, coarse group)
OCCUPATIONS: dict[str, tuple[str, str]] = {
    "trader": ("trader", "market or trade"),
    "smuggler": ("smuggler", "market or trade"),
    "broker": ("broker", "market or trade"),
    "farmer": ("farmer", "farm or factory work"),
    "factory_worker": ("factory worker", "farm or factory work"),
    "miner": ("miner", "farm or factory work"),
    "labourer": ("labourer", "farm or factory work"),
    "soldier": ("soldier", "state or military"),
    "border_guard": ("border guard", "state or military"),
    "official": ("official", "state or military"),
    "teacher": ("teacher", "professional"),
    "doctor": ("doctor", "professional"),
    "student": ("student", "other"),
    "homemaker": ("homemaker", "other"),
    "unemployed": ("", "other"),  # no noun: described as a person
    "other": ("worker", "other"),
}
#: how often a witness could contact relatives (before and after 2020)
CONTACT_LEVELS: tuple[str, ...] = ("none", "rare", "regular")
#: topic -> HURIDOCS vocabulary label (Micro-thesauri, rights and types of acts)
TOPICS: dict[str, str] = {
    "food": "Right to food",
    "movement": "Freedom of movement",
    "communication": "Freedom of opinion and expression",
    "trade": "Right to work",
    "punishment": "Torture and other cruel, inhuman or degrading treatment or punishment",
    "forced_repatriation": "Refoulement",
    "detention": "Arbitrary arrest and detention",
    "health": "Right to health",
}


def fold(text: str) -> str:
    """Lower-case, strip diacritics and apostrophes: how romanised names are compared.

    >>> fold("P'yŏngan-bukto")
    'pyongan-bukto'
    """
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    for mark in ("'", "’", "‘", "`"):
        text = text.replace(mark, "")
    return text.lower()


_PROVINCE_BY_NAME = {fold(code): code for code in PROVINCES}
for _code, (_label, _names) in PROVINCES.items():
    _PROVINCE_BY_NAME[fold(_label)] = _code
    for _name in _names:
        _PROVINCE_BY_NAME[fold(_name)] = _code


def province_code(name: str) -> str:
    """The canonical code of a North Korean province from any of its names.

    >>> province_code("함경북도")
    'north_hamgyong'
    """
    key = fold(name.strip()).replace("_", " ")
    for candidate in (key, key.replace(" ", "_"), key.removesuffix(" province")):
        if candidate in _PROVINCE_BY_NAME:
            return _PROVINCE_BY_NAME[candidate]
    raise InputError("province", f"unknown province; use one of {', '.join(PROVINCES)}")


def age_band(age: int | str) -> str:
    """The 10-year band of an age (an exact age is never stored).

    >>> age_band("30-39"), age_band(61)
    ('30-39', '60+')
    """
    if isinstance(age, str) and age in AGE_BANDS:
        return age
    try:
        years = int(age)
    except (TypeError, ValueError):
        raise InputError("age_band", f"expected an age or one of {', '.join(AGE_BANDS)}") from None
    if years < 18 or years > 120:
        raise InputError("age_band", "age out of range (witnesses are adults)")
    if years >= 60:
        return "60+"
    low = (years // 10) * 10
    return "18-29" if low < 30 else f"{low}-{low + 9}"


#: size of the grid cells places given as coordinates are snapped to (degrees)
GRID_DEGREES = 0.5


def coarsen_place(place: str | dict | None) -> str | None:
    """Coarsen a linked place deterministically: a province name or a known town becomes
    ``province:<code>``; coordinates ``{"lon", "lat"}`` become a 0.5° grid cell.

    >>> coarsen_place("Hyesan"), coarsen_place({"lon": 128.18, "lat": 41.39})
    ('province:ryanggang', 'cell:0.5:128.0:41.0')
    """
    if place is None:
        return None
    if isinstance(place, dict):
        try:
            lon, lat = float(place["lon"]), float(place["lat"])
        except (KeyError, TypeError, ValueError):
            raise InputError("place", 'expected a name or {"lon": .., "lat": ..}') from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InputError("place", "coordinates out of range")
        cell_lon = math.floor(lon / GRID_DEGREES) * GRID_DEGREES
        cell_lat = math.floor(lat / GRID_DEGREES) * GRID_DEGREES
        return f"cell:{GRID_DEGREES}:{cell_lon:.1f}:{cell_lat:.1f}"
    name = str(place).strip()
    if name.startswith(("province:", "cell:")):
        return name
    try:
        return f"province:{province_code(name)}"
    except InputError:
        pass
    folded = fold(name)
    for _key, (province, names) in PLACES.items():
        if any(fold(n) == folded for n in names):
            if province is None:
                return "outside:china"
            return f"province:{province}"
    coarse = _bundled_place(folded)
    if coarse:
        return coarse
    raise InputError("place", "unknown place; give a province, a known town, or lon/lat")


def _bundled_place(folded: str) -> str | None:
    from fenceline.data import bundled_places

    places = bundled_places("geonames")
    for name, ascii_name, country, admin1 in zip(
        places["name"],
        places["asciiname"],
        places["country_code"],
        places["admin1_code"],
        strict=True,
    ):
        if folded in (fold(str(name)), fold(str(ascii_name))):
            if country == "KP" and str(admin1) in _GEONAMES_ADMIN1:
                return f"province:{_GEONAMES_ADMIN1[str(admin1)]}"
            return "outside:china" if country == "CN" else f"outside:{str(country).lower()}"
    return None
