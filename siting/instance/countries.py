"""Country codes: ISO 3166-1 alpha-2, checked wherever an instance names a country.

A country is compared as text everywhere in the model (a supplier is local to a site in the same
country, a tariff row applies to a pair of countries, an exclusion or a concentration limit to one
country), so ``Japan``, ``JPN`` or ``jp`` where the rest of the instance says ``JP`` would silently
change the answer. Every country is therefore checked against the list of ISO 3166-1 alpha-2 codes,
with the code suggested for a name, an alpha-3 code or a lower-case code.

The list (``siting/data/iso3166-1.csv``) holds the 249 officially assigned code elements of
ISO 3166-1 with their alpha-3 codes and English short names, as published by the ISO 3166
Maintenance Agency (https://www.iso.org/iso-3166-country-codes.html) and mirrored in the UN
Statistics Division's M49 table. The user-assigned elements (``AA``, ``QM``-``QZ``, ``XA``-``XZ``,
``ZZ``), which the standard leaves for users' own purposes, are accepted too: an abstract test
instance can say ``XX`` and a place ISO does not list can get a code of its own (``XK`` is widely
used for Kosovo).
"""

from __future__ import annotations

import csv
import difflib
import unicodedata
from functools import lru_cache
from importlib import resources

#: Codes ISO 3166-1 reserves exceptionally for a country that has an assigned code of its own.
RESERVED = {"UK": "GB", "EL": "GR"}

#: Common names (lower case, without accents) beside the ISO short names, for "did you mean".
OTHER_NAMES = {
    "usa": "US", "u.s.": "US", "u.s.a.": "US", "united states": "US", "america": "US",
    "great britain": "GB", "britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northern ireland": "GB", "united kingdom of great britain and northern ireland": "GB",
    "south korea": "KR", "korea": "KR", "republic of korea": "KR", "north korea": "KP",
    "taiwan, province of china": "TW", "republic of china": "TW", "chinese taipei": "TW",
    "mainland china": "CN", "prc": "CN", "people's republic of china": "CN", "hongkong": "HK", "macau": "MO",
    "russia": "RU", "vietnam": "VN", "laos": "LA", "iran": "IR", "syria": "SY", "moldova": "MD",
    "czech republic": "CZ", "holland": "NL", "the netherlands": "NL", "turkey": "TR", "turkiye": "TR",
    "macedonia": "MK", "swaziland": "SZ", "cape verde": "CV", "ivory coast": "CI", "burma": "MM",
    "brunei": "BN", "vatican": "VA", "vatican city": "VA", "micronesia": "FM", "palestine": "PS",
    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "democratic republic of the congo": "CD",
    "dr congo": "CD", "republic of the congo": "CG", "east timor": "TL", "uae": "AE", "emirates": "AE",
    "deutschland": "DE", "nippon": "JP", "nihon": "JP", "espana": "ES", "schweiz": "CH", "suisse": "CH",
}


def _plain(text: str) -> str:
    """Lower case without accents or surrounding space, for comparing names."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip().lower()


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(alpha-2 -> name, alpha-3 -> alpha-2, plain name -> alpha-2), read once from the package data."""
    text = (resources.files("siting") / "data" / "iso3166-1.csv").read_text(encoding="utf-8")
    names, alpha3, by_name = {}, {}, {}
    for row in csv.DictReader(text.splitlines()):
        names[row["alpha2"]] = row["name"]
        alpha3[row["alpha3"]] = row["alpha2"]
        by_name[_plain(row["name"])] = row["alpha2"]
    for name, code in OTHER_NAMES.items():
        by_name.setdefault(name, code)
    return names, alpha3, by_name


def iso_codes() -> dict[str, str]:
    """Every officially assigned ISO 3166-1 alpha-2 code -> its English short name."""
    return dict(_table()[0])


def user_assigned(code: str) -> bool:
    """Whether ``code`` is one of ISO 3166-1's user-assigned alpha-2 elements (AA, QM-QZ, XA-XZ, ZZ)."""
    if len(code) != 2 or not code.isascii() or not code.isupper():
        return False
    return code in ("AA", "ZZ") or (code[0] == "Q" and code[1] >= "M") or code[0] == "X"


def is_country(code: str) -> bool:
    """Whether ``code`` is a valid alpha-2 code: officially assigned or user-assigned, in capitals."""
    return code in _table()[0] or user_assigned(code)


def country_problem(text: str) -> tuple[str, str] | None:
    """(problem, fix) for a country that is not an alpha-2 code, or None if it is one.

    The problem starts with the value as written ("is 'Japan', ..."), the fix names the code to
    write where one can be guessed: the code of a country name, the alpha-2 code of an alpha-3
    code, the capitals of a lower-case code.
    """
    if is_country(text):
        return None
    names, alpha3, by_name = _table()
    upper = text.upper()
    if upper != text and is_country(upper):
        return f"is '{text}', not in capitals", f"write {upper}"
    if upper in alpha3:
        code = alpha3[upper]
        return f"is '{text}', an ISO 3166-1 alpha-3 code", f"write its alpha-2 code {code} ({names[code]})"
    if upper in RESERVED:
        code = RESERVED[upper]
        return (f"is '{text}', a code ISO 3166-1 reserves but does not assign",
                f"write {code}, the code of {names[code]}")
    plain = _plain(text)
    if plain in by_name:
        return f"is '{text}', not an ISO 3166-1 alpha-2 code", f"did you mean {by_name[plain]}?"
    close = difflib.get_close_matches(plain, list(by_name), n=1, cutoff=0.8)
    if close and len(plain) > 3:
        return f"is '{text}', not an ISO 3166-1 alpha-2 code", f"did you mean {by_name[close[0]]}?"
    return (f"is '{text}', not an ISO 3166-1 alpha-2 code",
            "give a two-letter code such as JP, TW or US (or a user-assigned one, XA to XZ, for a place "
            "ISO does not list)")
