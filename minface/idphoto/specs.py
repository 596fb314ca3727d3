"""Document specifications: the photo each authority asks for, with its sources.

:data:`SPECS` holds the published figures of each authority (see :class:`Spec`);
``minface specs`` prints them. Sizes are the printed photo in millimetres and its
pixels at 300 dpi (the US, India and DV figures are 600 x 600 pixels, 2 x 2
inches). Head heights run from the chin to the crown, which is the top of the
hair where the authority says so or just says "top of the head" (US, India, UK,
Japan, Australia, China), and the top of the skull where it says "as if there
were no hair" (ICAO, and the Schengen photo rules that follow it) or "natural top
of the head" (Canada). Where an authority gives the head size as a fraction of
the photo height, the millimetres are that fraction of the height. Each spec
also carries the background colour the authority asks for and, where it sets
one, the largest file size.

Examples
--------
>>> us = SPECS["us-passport"]
>>> us.width_px, us.height_px, us.head_mm, us.background
(600, 600, (25.4, 34.925), (255, 255, 255))
>>> SPECS["us-dv"].max_bytes, SPECS["us-dv"].file_format
(240000, 'JPEG')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = ["Spec", "SPECS", "get_spec", "WHITE", "LIGHT_GREY"]

_INCH = 25.4
#: Plain white, the colour of most authorities' "white or off-white" backgrounds.
WHITE = (255, 255, 255)
#: Light grey (sRGB 225), for authorities that ask for "light grey" or "light-coloured, preferably grey".
LIGHT_GREY = (225, 225, 225)

@dataclass(frozen=True)
class Spec:
    """The photo a document asks for.

    Lengths are millimetres of the printed photo; ratios of the photo height
    follow from them and are what is checked, so the check does not depend on the
    pixel size.

    Attributes
    ----------
    name : str
        Key in :data:`SPECS`, e.g. ``"us-passport"``.
    title : str
        Human-readable name.
    width_mm, height_mm : float
        Photo size.
    dpi : int
        Pixels per inch of the output; ``width_px``/``height_px`` are the size in
        millimetres at this resolution.
    head_mm : (float, float)
        Head height, chin to crown, smallest and largest.
    eye_mm : (float, float) or None
        Height of the eye line above the bottom edge, or None where the authority sets none.
    top_margin_mm : (float, float or None) or None
        Gap between the crown and the top edge (smallest, largest), if set.
    bottom_margin_mm : float or None
        Smallest gap between the chin and the bottom edge, if set.
    crown : {"hair", "skull"}
        What the authority calls the crown: the top of the hair (also where it
        just says "top of the head") or the top of the skull, "as if there were
        no hair" (ICAO) or "natural top of the head" (Canada). Margins above the
        head are always measured to the top of the hair.
    authority : str
        The document or official page the figures come from.
    notes : str
        Other requirements and conversions.
    background : (int, int, int)
        The plain background colour :func:`~minface.crop_id` paints by default:
        one the authority allows (white where it says "white or off-white",
        light grey where it prefers grey or a light colour).
    background_rule : str
        What the authority says about the background.
    max_bytes : int or None
        Largest file the authority accepts (bytes), if it sets one;
        :meth:`IdPhoto.save <minface.IdPhoto.save>` lowers the JPEG quality until the file fits.
    file_format : str or None
        The file format the authority requires, if any (``"JPEG"``).

    Examples
    --------
    >>> s = SPECS["icao"]
    >>> (s.width_px, s.height_px), s.head_ratio, s.eye_ratio
    ((413, 531), (0.7, 0.8), (0.5, 0.7))
    """

    name: str
    title: str
    width_mm: float
    height_mm: float
    dpi: int
    head_mm: tuple[float, float]
    eye_mm: tuple[float, float] | None
    authority: str
    top_margin_mm: tuple[float, float | None] | None = None
    bottom_margin_mm: float | None = None
    crown: str = "hair"
    notes: str = ""
    background: tuple[int, int, int] = WHITE
    background_rule: str = ""
    max_bytes: int | None = None
    file_format: str | None = None

    def __post_init__(self) -> None:
        if not (self.width_mm > 0 and self.height_mm > 0 and self.dpi > 0):
            raise ValueError(f"spec {self.name!r}: size and dpi must be positive")
        lo, hi = self.head_mm
        if not 0 < lo <= hi < self.height_mm:
            raise ValueError(f"spec {self.name!r}: head height range {self.head_mm} does not fit the photo")
        if self.eye_mm is not None and not 0 < self.eye_mm[0] <= self.eye_mm[1] < self.height_mm:
            raise ValueError(f"spec {self.name!r}: eye line range {self.eye_mm} does not fit the photo")
        if self.crown not in ("hair", "skull"):
            raise ValueError(f"spec {self.name!r}: crown must be 'hair' or 'skull', got {self.crown!r}")
        if len(self.background) != 3 or not all(0 <= int(v) <= 255 for v in self.background):
            raise ValueError(f"spec {self.name!r}: background must be an (r, g, b) colour, got {self.background!r}")
        if self.max_bytes is not None and not self.max_bytes > 0:
            raise ValueError(f"spec {self.name!r}: max_bytes must be positive")

    @property
    def width_px(self) -> int:
        """Output width in pixels."""
        return round(self.width_mm / _INCH * self.dpi)

    @property
    def height_px(self) -> int:
        """Output height in pixels."""
        return round(self.height_mm / _INCH * self.dpi)

    @property
    def head_ratio(self) -> tuple[float, float]:
        """Head height range as fractions of the photo height."""
        return _ratio(self.head_mm, self.height_mm)

    @property
    def eye_ratio(self) -> tuple[float, float] | None:
        """Eye line range (from the bottom) as fractions of the photo height, or None."""
        return None if self.eye_mm is None else _ratio(self.eye_mm, self.height_mm)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the spec, with pixel sizes and ratios."""
        return {
            "name": self.name,
            "title": self.title,
            "width_mm": self.width_mm,
            "height_mm": self.height_mm,
            "dpi": self.dpi,
            "width_px": self.width_px,
            "height_px": self.height_px,
            "head_mm": list(self.head_mm),
            "head_ratio": list(self.head_ratio),
            "eye_mm": None if self.eye_mm is None else list(self.eye_mm),
            "eye_ratio": None if self.eye_ratio is None else list(self.eye_ratio),
            "top_margin_mm": None if self.top_margin_mm is None else list(self.top_margin_mm),
            "bottom_margin_mm": self.bottom_margin_mm,
            "crown": self.crown,
            "background": list(self.background),
            "background_rule": self.background_rule,
            "max_bytes": self.max_bytes,
            "file_format": self.file_format,
            "authority": self.authority,
            "notes": self.notes,
        }


def _ratio(mm: tuple[float, float], height: float) -> tuple[float, float]:
    return (round(mm[0] / height, 4), round(mm[1] / height, 4))


def _pct(lo: float, hi: float, height: float) -> tuple[float, float]:
    """A range given as percentages of the height, in millimetres."""
    return (round(lo * height / 100, 3), round(hi * height / 100, 3))


_US = "U.S. Department of State, travel.state.gov"
_SPEC_LIST = (
    Spec(
        "icao",
        "ICAO generic (35x45 mm)",
        35,
        45,
        300,
        _pct(70, 80, 45),
        _pct(50, 70, 45),
        "ICAO Doc 9303 'Machine Readable Travel Documents' (Part 3) photograph guidelines and ICAO Technical "
        "Report 'Portrait Quality (Reference Facial Images for MRTD)' (2018): chin to crown 70-80% of the "
        "photo height, the crown being the top of the head if there were no hair; eye line 50-70% of the "
        "height from the bottom as in ISO/IEC 19794-5 (full frontal image)",
        crown="skull",
        notes="head height given as 70-80% of the height (31.5-36 mm); eye line 22.5-31.5 mm",
        background=LIGHT_GREY,
        background_rule="ICAO Doc 9303 Part 3: a plain, uniform, light-coloured background (light grey, light blue or white), no shadows or patterns",
    ),
    Spec(
        "schengen",
        "Schengen visa / EU passport (35x45 mm)",
        35,
        45,
        300,
        (32, 36),
        _pct(50, 70, 45),
        "European Commission, Visa Code Handbook (photographs to ICAO Doc 9303 standards); head 32-36 mm "
        "as in the German Federal Ministry of the Interior's 'Passbild-Schablone' (photo template)",
        crown="skull",
        notes="32-36 mm is 71-80% of the height; eye line from ISO/IEC 19794-5 (50-70%)",
        background=LIGHT_GREY,
        background_rule="plain, light background, preferably neutral grey (German BMI photo template); no patterns",
    ),
    Spec(
        "uk-passport",
        "UK passport (35x45 mm)",
        35,
        45,
        300,
        (29, 34),
        None,
        "HM Passport Office, GOV.UK 'Photos for passports': 45 mm high by 35 mm wide, head 29-34 mm "
        "from the bottom of the chin to the top of the head",
        notes="digital photos: at least 600 x 750 pixels; no eye line set",
        background=LIGHT_GREY,
        background_rule="GOV.UK: a plain cream or light grey background, no patterns or shadows",
    ),
    Spec(
        "us-passport",
        "US passport (2x2 in)",
        2 * _INCH,
        2 * _INCH,
        300,
        (1 * _INCH, 1.375 * _INCH),
        (1.125 * _INCH, 1.375 * _INCH),
        f"{_US}, 'Photo Requirements' and 'Photo Composition Template' (U.S. passports): 2 x 2 inches, head "
        "1 to 1 3/8 inches from the bottom of the chin to the top of the head, eyes 1 1/8 to 1 3/8 inches "
        "from the bottom",
        notes="head 25.4-34.9 mm (50-69%), eyes 28.6-34.9 mm (56-69%); 600 x 600 px at 300 dpi",
        background=WHITE,
        background_rule="travel.state.gov: a plain white or off-white background, no patterns, shadows or objects",
    ),
    Spec(
        "us-visa",
        "US visa, digital (600x600 px)",
        2 * _INCH,
        2 * _INCH,
        300,
        _pct(50, 69, 2 * _INCH),
        _pct(56, 69, 2 * _INCH),
        f"{_US}, 'Photo Requirements' / 'Digital Image Requirements' (U.S. visas): square, 600 x 600 to "
        "1200 x 1200 pixels, head (top of the hair to bottom of the chin) 50-69% of the image height, eye "
        "height 56-69% of the image height from the bottom",
        notes="ranges given as fractions of the height; JPEG, 240 kB at most",
        background=WHITE,
        background_rule="travel.state.gov: a plain white or off-white background",
        max_bytes=240000,
        file_format="JPEG",
    ),
    Spec(
        "us-dv",
        "US Diversity Visa lottery (600x600 px)",
        2 * _INCH,
        2 * _INCH,
        300,
        _pct(50, 69, 2 * _INCH),
        _pct(56, 69, 2 * _INCH),
        f"{_US}, 'Instructions for the Diversity Immigrant Visa Program (DV-2026)': 600 x 600 pixels, head "
        "50-69% of the image height, eye height 56-69% of the image height from the bottom",
        notes="ranges given as fractions of the height; JPEG, 240 kB at most, 24-bit colour",
        background=WHITE,
        background_rule="DV instructions: a neutral, light-coloured background (white or off-white)",
        max_bytes=240000,
        file_format="JPEG",
    ),
    Spec(
        "canada-passport",
        "Canadian passport (50x70 mm)",
        50,
        70,
        300,
        (31, 36),
        None,
        "Immigration, Refugees and Citizenship Canada, canada.ca 'Passport photo specifications': 50 mm wide "
        "by 70 mm high, 31-36 mm from chin to crown (natural top of the head)",
        crown="skull",
        notes="no eye line set",
        background=WHITE,
        background_rule="IRCC: a plain white or light-coloured background, uniform, no shadows",
    ),
    Spec(
        "china-visa",
        "Chinese visa (33x48 mm)",
        33,
        48,
        300,
        (28, 33),
        None,
        "Chinese Visa Application Service Center (Embassies of the People's Republic of China), 'Photo "
        "Requirements': 48 mm high by 33 mm wide, head 28-33 mm from chin to crown, head width 15-22 mm, "
        "3-5 mm blank above the head, more than 7 mm from the chin to the bottom edge",
        top_margin_mm=(3, 5),
        bottom_margin_mm=7,
        notes="digital photos: 354 x 472 to 420 x 560 pixels; the head width is not checked",
        background=WHITE,
        background_rule="a white or near-white background, no border",
    ),
    Spec(
        "india-visa",
        "Indian visa (2x2 in)",
        2 * _INCH,
        2 * _INCH,
        300,
        (1 * _INCH, 1.375 * _INCH),
        (1.125 * _INCH, 1.375 * _INCH),
        "Government of India, Indian Visa Online (indianvisaonline.gov.in), 'Photo specifications': 2 x 2 "
        "inches, head 1 to 1 3/8 inches (25-35 mm) from the top of the hair to the bottom of the chin, eyes "
        "1 1/8 to 1 3/8 inches (28-35 mm) from the bottom",
        notes="digital photos: 350 x 350 to 1000 x 1000 pixels, square",
        background=WHITE,
        background_rule="Indian Visa Online: a plain light-coloured or white background; 10 kB to 1 MB",
        max_bytes=1000000,
        file_format="JPEG",
    ),
    Spec(
        "japan-passport",
        "Japanese passport (35x45 mm)",
        35,
        45,
        300,
        (32, 36),
        None,
        "Ministry of Foreign Affairs of Japan, mofa.go.jp 'Passport photo specifications': "
        "45 x 35 mm, chin to top of the head 34 mm +- 2 mm, 4 mm +- 2 mm above the head",
        top_margin_mm=(2, 6),
        notes="no eye line set",
        background=LIGHT_GREY,
        background_rule="MOFA: a plain background without pattern or shadow (light)",
    ),
    Spec(
        "australia-passport",
        "Australian passport (35x45 mm)",
        35,
        45,
        300,
        (32, 36),
        None,
        "Australian Passport Office, passports.gov.au 'Photo guidelines': 35-40 mm wide by 45-50 mm high, "
        "face (chin to crown) 32-36 mm",
        notes="the 35 x 45 mm size is used; no eye line set",
        background=WHITE,
        background_rule="APO: a plain white or light grey background",
    ),
)

#: The document specifications by name (read-only). See :class:`Spec`.
SPECS: Mapping[str, Spec] = MappingProxyType({s.name: s for s in _SPEC_LIST})


def get_spec(spec: str | Spec) -> Spec:
    """The :class:`Spec` named ``spec`` (or ``spec`` itself).

    >>> get_spec("us-dv").height_px
    600
    >>> get_spec("mars")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown ID photo spec 'mars'; choose one of icao, schengen, uk-passport, us-passport, ...
    """
    if isinstance(spec, Spec):
        return spec
    found = SPECS.get(str(spec).lower())
    if found is None:
        raise ValueError(f"unknown ID photo spec {spec!r}; choose one of {', '.join(SPECS)}")
    return found

