"""Validators of the personal numbers that documents carry (pure functions, no models).

Each takes text as a recogniser reads it and says whether it is (or holds) a
number of that kind. They are strict where a check digit exists, so random
text on signs and screens does not pass.
"""

from __future__ import annotations

import re
from datetime import date

__all__ = [
    "mrz_line_start",
    "mrz_format",
    "id_check_digit",
    "is_id_number",
    "luhn_valid",
    "is_card_number",
    "is_phone",
    "mrz_check_digit",
    "mrz_shape",
    "is_email",
    "email_cut",
    "labelled_field",
    "mask",
    "ID_LABELS",
]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643-1999 MOD 11-2 check character of the first 17 digits of a Chinese resident ID number.

    >>> id_check_digit("11010519491231002")
    'X'
    """
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_id_number(text: str) -> bool:
    """18 characters: 17 digits, a real birth date (1900 to today) and the right check character.

    >>> is_id_number("11010519491231002X"), is_id_number("11010519491231002x")
    (True, True)
    >>> is_id_number("11010519491231003X"), is_id_number("11010519491331002X")  # a digit off, month 13
    (False, False)
    """
    t = text.strip().upper()
    if len(t) != 18 or not t[:17].isdigit() or t[17] not in "0123456789X":
        return False
    try:
        born = date(int(t[6:10]), int(t[10:12]), int(t[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    return id_check_digit(t[:17]) == t[17]


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    if not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_GROUPED = re.compile(r"^(\d{4}[ -]){3}\d{4}(\d{3})?$|^\d{4}[ -]\d{6}[ -]\d{5}$|^\d{6}[ -]\d{13}$|^(\d{4}[ -]){4}\d{3}$")


def is_card_number(text: str) -> bool:
    """A payment card number: 13-19 digits passing Luhn, or grouped as cards print them.

    Some UnionPay numbers (``62...``) fail Luhn, so a number grouped like a card
    (``4 4 4 4``, ``4 4 4 4 3``, ``4 6 5``, ``6 13``) starting with a card
    network's digit passes too.

    >>> is_card_number("4111 1111 1111 1111"), is_card_number("4111111111111112")
    (True, False)
    >>> is_card_number("6212 3456 7890 1234 567"), is_card_number("1234")
    (True, False)
    """
    t = text.strip()
    digits = re.sub(r"[ -]", "", t)
    if not digits.isdigit() or not 13 <= len(digits) <= 19:
        return False
    if luhn_valid(digits) and digits[0] in "3456" or luhn_valid(digits) and len(digits) >= 15:
        return True
    return digits[0] in "3456" and bool(_GROUPED.match(re.sub(r"\s+", " ", t)))


_CN_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_INTL = re.compile(r"(?:\+|(?<!\d)00)[1-9]\d{0,2}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){2,5}\d{2,4}(?!\d)")


def is_phone(text: str) -> bool:
    """Holds a phone number: a Chinese mobile (``1[3-9]`` and 9 digits) or an international ``+``/``00`` form.

    >>> is_phone("13812345678"), is_phone("电话 138 1234 5678"), is_phone("+44 20 7946 0958")
    (True, True, True)
    >>> is_phone("12812345678"), is_phone("1381234567"), is_phone("2024")
    (False, False, False)
    """
    compact = re.sub(r"(?<=\d)[ -](?=\d)", "", text)
    if _CN_MOBILE.search(compact):
        return True
    m = _INTL.search(text)
    return bool(m) and 8 <= sum(c.isdigit() for c in m.group(0)) <= 15


_MRZ_CHARS = re.compile(r"^[A-Z0-9<]+$")
#: The start of line 1 of every MRZ (TD1, TD2, TD3, MRV): the document code, then the issuing state.
_MRZ_START = re.compile(r"^[PIACV][A-Z<](?:[A-Z]{3}|[A-Z]{2}<|[A-Z]<<)")


def mrz_check_digit(text: str) -> str:
    """ICAO 9303 check digit (weights 7, 3, 1; ``<`` is 0, A-Z are 10-35).

    >>> mrz_check_digit("L898902C3"), mrz_check_digit("740812")
    ('6', '2')
    """
    total = 0
    for i, c in enumerate(text):
        v = int(c) if c.isdigit() else (ord(c) - 55 if "A" <= c <= "Z" else 0)
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def mrz_shape(text: str) -> bool:
    """Shaped like an ICAO 9303 MRZ line (TD1 30, TD2 36, TD3 44 characters, give or take a few misread ``<``).

    Check digits are not required: a misread MRZ line must still be destroyed.

    >>> mrz_shape("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<")
    True
    >>> mrz_shape("L898902C36UTO7408122F1204159ZE184226B<<<<<10"), mrz_shape("HELLO WORLD")
    (True, False)
    >>> mrz_shape("I<D<<GIASFEI<<"), mrz_shape("P<FRABREIRT"), mrz_shape("ROOM<12")   # pieces cut at the filler
    (True, True, False)
    >>> mrz_shape("INTERVIEW"), mrz_shape("CANNOTDRIVE")   # words that begin as a document code and a state would
    (False, False)
    """
    t = re.sub(r"\s+", "", text.upper()).replace("«", "<<").replace("‹", "<").replace("く", "<")
    if _MRZ_CHARS.match(t) and len(t) >= 8 and "<" in t and ("<<" in t or _MRZ_START.match(t)):
        return True  # a piece of an MRZ line: the detector may split a line at its filler
    if not 24 <= len(t) <= 48 or not _MRZ_CHARS.match(t):
        return False
    if t.count("<") >= 2:
        return True
    # a line without filler: mostly digits with letters, as line 2 of TD3 can be
    return sum(c.isdigit() for c in t) >= 12


def mrz_line_start(text: str) -> bool:
    """Whether ``text`` begins as line 1 of an MRZ does: a document code (``P``, ``I``, ``A``, ``C``, ``V``) and a state.

    >>> mrz_line_start("P<UTOERIKSSON<<ANNA"), mrz_line_start("I<D<<GIASFEI"), mrz_line_start("L898902C36UTO")
    (True, True, False)
    """
    return bool(_MRZ_START.match(re.sub(r"\s+", "", text.upper())))


def mrz_format(line1: str, rows: int = 2) -> int:
    """Characters per line of the MRZ whose line 1 begins with ``line1`` (as far as it was read): 30, 36 or 44.

    TD1 cards (3 lines) carry the document number after the state; TD2 cards
    (``I``, ``A``, ``C``) and TD3 passports and visas (``P``, ``V``) the name.
    Without a sign of the format, the longest (44): painting past a shorter
    line's end costs little, stopping short leaves characters readable.

    >>> mrz_format("IDUTOD23145890"), mrz_format("I<CANXU<<ZHIYU<"), mrz_format("P<FRABREIRT"), mrz_format("")
    (30, 36, 44, 44)
    >>> mrz_format("", rows=3)
    30
    """
    t = re.sub(r"\s+", "", line1.upper())
    if rows >= 3 or re.match(r"^[IAC][A-Z<][A-Z<]{3}[A-Z0-9<]{0,8}\d", t):
        return 30
    if re.match(r"^[IAC][A-Z<][A-Z<]{3}[A-Z<]{3}", t):
        return 36
    return 44


_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")


def is_email(text: str) -> bool:
    """Holds an e-mail address.

    >>> is_email("mail: li.wei@example.com"), is_email("li.wei at example")
    (True, False)
    """
    return bool(_EMAIL.search(text))


_EMAIL_CUT = re.compile(r"[A-Za-z0-9._%+-]{2,}@[A-Za-z0-9-]{2,}\.?$")


def email_cut(text: str) -> bool:
    """An e-mail address cut short at the line's end, as a detector can leave it: ``name@dom`` without its top-level domain.

    >>> email_cut("Email: li.wei@exam"), email_cut("li.wei@example.com"), email_cut("@handle")
    (True, False, False)
    """
    t = text.strip()
    return not is_email(t) and bool(_EMAIL_CUT.search(t))


#: Labels of personal fields on identity documents (Chinese ID cards, passports, residence cards).
ID_LABELS = (
    "姓名", "性别", "民族", "出生", "住址", "公民身份号码", "身份号码", "签发机关", "有效期限", "居民身份证",
    "SURNAME", "GIVEN NAME", "GIVENNAME", "DATE OF BIRTH", "DATEOFBIRTH", "PLACE OF BIRTH", "NATIONALITY",
    "PASSPORT", "DATE OF EXPIRY", "DATEOFEXPIRY", "DATE OF ISSUE", "AUTHORITY", "CARDHOLDER", "VALID THRU",
    "DOCUMENT NO", "PERSONAL NO",
)
_LABELS_FLAT = tuple(label.replace(" ", "") for label in ID_LABELS)


def labelled_field(text: str) -> str | None:
    """The identity-document label a line carries (``姓名``, ``SURNAME``, ...), or None.

    >>> labelled_field("姓名 王伟"), labelled_field("Surname / Nom"), labelled_field("OPEN 24 HOURS")
    ('姓名', 'SURNAME', None)
    """
    flat = re.sub(r"\s+", "", text.upper())
    for label, f in zip(ID_LABELS, _LABELS_FLAT):
        if f in flat:
            return label
    return None


def mask(value: str, keep_start: int = 4, keep_end: int = 4) -> str:
    """``value`` with all but its first and last characters replaced by ``*`` (spaces dropped).

    >>> mask("11010519491231002X", 4, 4)
    '1101**********002X'
    >>> mask("12", 4, 4)
    '**'
    """
    v = re.sub(r"\s+", "", value)
    if len(v) <= keep_start + keep_end:
        return "*" * len(v)
    return v[:keep_start] + "*" * (len(v) - keep_start - keep_end) + v[-keep_end:]
