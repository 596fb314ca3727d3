"""Format-valid personal numbers and random people for the synthetic documents (no real person's data).

Chinese resident ID numbers (GB 11643: a region code, a real birth date, the MOD
11-2 check character), card numbers (Luhn, except some UnionPay ``62`` numbers
that fail it as real ones do), ICAO 9303 MRZ lines (TD1, TD2, TD3) with their
check digits, phone numbers (Chinese mobiles, ``+``/``00`` international forms in
ranges set aside for fiction where they exist) and e-mail addresses. The
validators here check the ground truth of the renderer; they are private to the
tests (minface has its own).

>>> import numpy as np
>>> valid_id_number(random_id_number(np.random.default_rng(0)))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# --------------------------------------------------------------------------- numbers

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643 MOD 11-2 check character of the first 17 digits of a Chinese resident ID number.

    >>> id_check_digit("11010519491231002")
    'X'
    """
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def valid_id_number(number: str) -> bool:
    """18 characters, a real birth date and the right check character.

    >>> valid_id_number("11010519491231002X"), valid_id_number("11010519491231003X")
    (True, False)
    """
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return id_check_digit(number[:17]) == number[17]


def luhn_valid(number: str) -> bool:
    """Luhn (mod 10) check of a card number's digits.

    >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
    (True, False)
    """
    total = 0
    for i, c in enumerate(reversed(number)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        if luhn_valid(prefix + d):
            return prefix + d
    raise AssertionError("unreachable")


def mrz_check_digit(text: str) -> str:
    """ICAO 9303 check digit (weights 7, 3, 1; ``<`` is 0, A-Z are 10-35).

    >>> mrz_check_digit("L898902C3"), mrz_check_digit("740812"), mrz_check_digit("120415")
    ('6', '2', '9')
    """
    total = 0
    for i, c in enumerate(text):
        v = int(c) if c.isdigit() else (ord(c) - 55 if "A" <= c <= "Z" else 0)
        total += v * (7, 3, 1)[i % 3]
    return str(total % 10)


def mrz_valid(lines: Sequence[str]) -> bool:
    """Every check digit of a TD1 (3x30), TD2 (2x36) or TD3 (2x44) MRZ.

    >>> mrz_valid(["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"])
    True
    """
    c = mrz_check_digit
    lens = [len(x) for x in lines]
    if lens == [44, 44]:
        l2 = lines[1]
        parts = [(l2[0:9], l2[9]), (l2[13:19], l2[19]), (l2[21:27], l2[27]), (l2[28:42], l2[42])]
        composite = (l2[0:10] + l2[13:20] + l2[21:43], l2[43])
    elif lens == [36, 36]:
        l2 = lines[1]
        parts = [(l2[0:9], l2[9]), (l2[13:19], l2[19]), (l2[21:27], l2[27])]
        composite = (l2[0:10] + l2[13:20] + l2[21:35], l2[35])
    elif lens == [30, 30, 30]:
        l1, l2 = lines[0], lines[1]
        parts = [(l1[5:14], l1[14]), (l2[0:6], l2[6]), (l2[8:14], l2[14])]
        composite = (l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29])
    else:
        return False
    return all(c(body) == digit for body, digit in parts + [composite])


def _fill(text: str, n: int) -> str:
    return (text + "<" * n)[:n]


# --------------------------------------------------------------------------- people (random, not real)

_SURNAMES = [
    ("王", "WANG"), ("李", "LI"), ("张", "ZHANG"), ("刘", "LIU"), ("陈", "CHEN"), ("杨", "YANG"), ("黄", "HUANG"),
    ("赵", "ZHAO"), ("吴", "WU"), ("周", "ZHOU"), ("徐", "XU"), ("孙", "SUN"), ("马", "MA"), ("朱", "ZHU"),
    ("胡", "HU"), ("郭", "GUO"), ("何", "HE"), ("高", "GAO"), ("林", "LIN"), ("罗", "LUO"), ("郑", "ZHENG"),
    ("梁", "LIANG"), ("谢", "XIE"), ("宋", "SONG"), ("唐", "TANG"), ("韩", "HAN"), ("冯", "FENG"), ("邓", "DENG"),
    ("曹", "CAO"), ("彭", "PENG"), ("曾", "ZENG"), ("田", "TIAN"), ("董", "DONG"), ("潘", "PAN"), ("蒋", "JIANG"),
    ("蔡", "CAI"), ("余", "YU"), ("叶", "YE"), ("程", "CHENG"), ("苏", "SU"), ("魏", "WEI"), ("丁", "DING"),
    ("沈", "SHEN"), ("姚", "YAO"), ("钟", "ZHONG"), ("陆", "LU"), ("范", "FAN"), ("金", "JIN"), ("石", "SHI"),
]
_GIVEN = [
    ("伟", "WEI"), ("芳", "FANG"), ("娜", "NA"), ("敏", "MIN"), ("静", "JING"), ("丽", "LI"), ("强", "QIANG"),
    ("磊", "LEI"), ("军", "JUN"), ("洋", "YANG"), ("勇", "YONG"), ("艳", "YAN"), ("杰", "JIE"), ("涛", "TAO"),
    ("明", "MING"), ("超", "CHAO"), ("秀", "XIU"), ("霞", "XIA"), ("平", "PING"), ("刚", "GANG"), ("英", "YING"),
    ("华", "HUA"), ("玉", "YU"), ("兰", "LAN"), ("文", "WEN"), ("建", "JIAN"), ("国", "GUO"), ("东", "DONG"),
    ("海", "HAI"), ("峰", "FENG"), ("宇", "YU"), ("鹏", "PENG"), ("浩", "HAO"), ("晨", "CHEN"), ("欣", "XIN"),
    ("怡", "YI"), ("佳", "JIA"), ("雪", "XUE"), ("琳", "LIN"), ("博", "BO"), ("思", "SI"), ("雨", "YU"),
    ("子", "ZI"), ("轩", "XUAN"), ("涵", "HAN"), ("睿", "RUI"), ("嘉", "JIA"), ("诗", "SHI"), ("婷", "TING"),
    ("慧", "HUI"), ("志", "ZHI"), ("宏", "HONG"),
]
_ONSETS = ["B", "D", "F", "G", "K", "L", "M", "N", "P", "R", "S", "T", "V", "Br", "Gr", "St", "Tr", "H", "J", "Ch"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou", "ia", "ie"]
_CODAS = ["", "", "n", "r", "s", "l", "m", "th", "nd", "rt"]
# province (name, GB/T 2260 code prefix) and fictional place syllables
PROVINCES = [
    ("北京市", "11"), ("天津市", "12"), ("河北省", "13"), ("山西省", "14"), ("辽宁省", "21"), ("吉林省", "22"),
    ("上海市", "31"), ("江苏省", "32"), ("浙江省", "33"), ("安徽省", "34"), ("福建省", "35"), ("江西省", "36"),
    ("山东省", "37"), ("河南省", "41"), ("湖北省", "42"), ("湖南省", "43"), ("广东省", "44"), ("重庆市", "50"),
    ("四川省", "51"), ("贵州省", "52"), ("云南省", "53"), ("陕西省", "61"), ("甘肃省", "62"),
]
PLACE_SYLLABLES = list("东西南北安平和兴华新青阳山河江湖桥林泉水长宁德庆福顺丰源川云明光")
ETHNIC_GROUPS = ["汉"] * 8 + ["回", "满", "蒙古", "壮", "苗", "维吾尔", "土家", "彝", "藏", "朝鲜"]
BANK_SYLLABLES = list("华通长丰兴安汇信泰瑞恒远融盛达中民商")
BANK_NAMES = ["NORTHSTAR", "RIVERSIDE", "UNITY", "ORCHID", "HARBOUR", "SUMMIT", "MERIDIAN", "GOLDEN BRIDGE", "EVERGREEN", "PACIFIC CROWN"]
WORDS_EN = (
    "the of and to in is for on with as by at from this that we you your our please will be are have has "
    "account service request office form date sign receipt order number copy note page section item total "
    "thank regards dear sincerely reference attached schedule delivery address contact department client"
).split()
WORDS_CN = list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经")
COUNTRIES = ["UTO", "CHN", "GBR", "FRA", "D<<", "NLD", "CAN", "SGP"]
COUNTRY_NAMES = {
    "UTO": "UTOPIA", "CHN": "PEOPLE'S REPUBLIC OF CHINA", "GBR": "UNITED KINGDOM", "FRA": "REPUBLIQUE FRANCAISE",
    "D<<": "BUNDESREPUBLIK DEUTSCHLAND", "NLD": "KINGDOM OF THE NETHERLANDS", "CAN": "CANADA", "SGP": "SINGAPORE",
}
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def pick(rng: np.random.Generator, seq: Sequence):
    """A random element of ``seq``."""
    return seq[int(rng.integers(len(seq)))]


def latin_word(rng: np.random.Generator, syllables: tuple[int, int] = (1, 3)) -> str:
    n = int(rng.integers(syllables[0], syllables[1] + 1))
    return "".join(pick(rng, _ONSETS) + pick(rng, _VOWELS) + pick(rng, _CODAS) for _ in range(n)).upper()


@dataclass
class Person:
    """A random person: no real one."""

    name_cn: str
    surname_latin: str
    given_latin: str
    sex: str  # "M" or "F"
    birth: date
    province: str
    province_code: str
    address: str

    @property
    def name_latin(self) -> str:
        return f"{self.given_latin} {self.surname_latin}"


def random_person(rng: np.random.Generator, *, chinese: bool = True) -> Person:
    """A person with a random name, birth date and address (from small syllable lists)."""
    sn, sl = pick(rng, _SURNAMES)
    given = [pick(rng, _GIVEN) for _ in range(int(rng.integers(1, 3)))]
    gn = "".join(g[0] for g in given)
    gl = "".join(g[1] for g in given)
    if not chinese:
        sl, gl = latin_word(rng), latin_word(rng, (1, 2))
    birth = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 55)))
    prov, code = pick(rng, PROVINCES)
    city = "".join(pick(rng, PLACE_SYLLABLES) for _ in range(2))
    road = "".join(pick(rng, PLACE_SYLLABLES) for _ in range(2))
    district = "".join(pick(rng, PLACE_SYLLABLES) for _ in range(2)) + pick(rng, ["区", "县"])
    addr = f"{prov}{city}市{district}{road}{pick(rng, ['路', '街', '大道'])}{int(rng.integers(1, 300))}号"
    if rng.random() < 0.6:
        addr += f"{int(rng.integers(1, 30))}栋{int(rng.integers(1, 6))}单元{int(rng.integers(1, 30))}{int(rng.integers(1, 5)):02d}室"
    return Person(sn + gn, sl, gl, "M" if rng.random() < 0.5 else "F", birth, prov, code, addr)


def random_id_number(rng: np.random.Generator, person: Person | None = None) -> str:
    """A random, valid 18-character resident ID number (plausible region code, real birth date, check digit)."""
    person = person or random_person(rng)
    region = f"{person.province_code}{int(rng.integers(1, 20)):02d}{int(rng.integers(1, 30)):02d}"
    seq = int(rng.integers(0, 500)) * 2 + (1 if person.sex == "M" else 0)  # odd: male, even: female
    body = f"{region}{person.birth:%Y%m%d}{seq:03d}"
    return body + id_check_digit(body)


def random_card_number(rng: np.random.Generator) -> tuple[str, tuple[int, ...]]:
    """A random card number and its printed grouping; some UnionPay ``62`` numbers fail Luhn, as real ones do."""
    kind = rng.random()
    if kind < 0.45:  # UnionPay debit, 16 or 19 digits
        length = 16 if rng.random() < 0.5 else 19
        prefix = "62" + "".join(str(d) for d in rng.integers(0, 10, length - 3))
        number = _luhn_complete(prefix)
        if rng.random() < 0.3:  # a UnionPay number that fails Luhn
            number = number[:-1] + str((int(number[-1]) + int(rng.integers(1, 10))) % 10)
        groups = (4, 4, 4, 4) if length == 16 else pick(rng, [(4, 4, 4, 4, 3), (6, 13)])
    elif kind < 0.75:  # Visa / Mastercard
        first = pick(rng, ["4", "51", "53", "55", "22"])
        number = _luhn_complete(first + "".join(str(d) for d in rng.integers(0, 10, 15 - len(first))))
        groups = (4, 4, 4, 4)
    elif kind < 0.88:  # 15 digits, 4-6-5
        number = _luhn_complete(pick(rng, ["34", "37"]) + "".join(str(d) for d in rng.integers(0, 10, 12)))
        groups = (4, 6, 5)
    elif kind < 0.95:  # 14 digits, 4-6-4
        number = _luhn_complete("36" + "".join(str(d) for d in rng.integers(0, 10, 11)))
        groups = (4, 6, 4)
    else:  # 13 digits, 4-4-5
        number = _luhn_complete("4" + "".join(str(d) for d in rng.integers(0, 10, 11)))
        groups = (4, 4, 5)
    return number, groups


def group_digits(number: str, groups: Sequence[int], sep: str = " ") -> str:
    """``number`` printed in ``groups``.

    >>> group_digits("6222021234567890123", (6, 13))
    '622202 1234567890123'
    """
    out, i = [], 0
    for g in groups:
        out.append(number[i : i + g])
        i += g
    return sep.join(out)


def random_phone(rng: np.random.Generator) -> tuple[str, str]:
    """A printed phone number and its national digits (what must not be readable).

    Chinese mobiles ``1[3-9]`` (plain, grouped, with ``+86`` or ``0086``) and
    international numbers in ranges set aside for fiction where they exist.
    """
    r = rng.random()
    if r < 0.6:
        mobile = "1" + str(int(rng.integers(3, 10))) + "".join(str(d) for d in rng.integers(0, 10, 9))
        style = int(rng.integers(5))
        printed = [mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}",
                   f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"+86-{mobile}"][style]
        return printed, mobile
    if r < 0.75:  # UK: 07700 900xxx is reserved for drama; 020 7946 0xxx too
        if rng.random() < 0.5:
            tail = f"{int(rng.integers(0, 1000)):03d}"
            national = "7700900" + tail
            printed = pick(rng, [f"+44 7700 900{tail}", f"0044 7700 900{tail}", f"+44 (0)7700 900{tail}"])
        else:
            tail = f"{int(rng.integers(0, 1000)):03d}"
            national = "2079460" + tail
            printed = pick(rng, [f"+44 20 7946 0{tail}", f"0044 20 7946 0{tail}"])
        return printed, national
    if r < 0.87:  # North America 555-01xx (fictional)
        area = f"{int(rng.integers(201, 990))}"
        tail = f"{int(rng.integers(0, 100)):02d}"
        national = area + "55501" + tail
        printed = pick(rng, [f"+1 ({area}) 555-01{tail}", f"+1 {area} 555 01{tail}", f"001-{area}-555-01{tail}"])
        return printed, national
    # Chinese landline with +86 / 0086
    area = pick(rng, ["10", "21", "20", "755", "571", "28"])
    local = "".join(str(d) for d in rng.integers(0, 10, 8 if len(area) == 2 else 7))
    local = str(int(rng.integers(2, 9))) + local[1:]
    printed = pick(rng, [f"+86 {area} {local[:4]} {local[4:]}", f"0086-{area}-{local}", f"+86 ({area}) {local}"])
    return printed, area + local


def random_email(rng: np.random.Generator, person: Person | None = None) -> str:
    """A random e-mail address (reserved example domains or syllable domains)."""
    person = person or random_person(rng)
    user = pick(
        rng,
        [
            f"{person.given_latin.lower()}.{person.surname_latin.lower()}",
            f"{person.surname_latin.lower()}{person.given_latin.lower()[:1]}{int(rng.integers(1, 99))}",
            f"{person.given_latin.lower()}_{person.birth.year}",
            "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(6, 11)))).lstrip("0") or "12345678",
        ],
    )
    domain = pick(
        rng,
        ["example.com", "example.org", "example.net", "mail.example", f"{latin_word(rng, (1, 2)).lower()}.test",
         f"{latin_word(rng, (1, 2)).lower()}mail.com", f"{latin_word(rng, (1, 2)).lower()}.cn"],
    )
    return f"{user}@{domain}"


def date_text(d: date, rng: np.random.Generator) -> str:
    """``d`` as documents print it: ``12 AUG 1990``, ``12.08.1990`` or ``1990-08-12``."""
    return pick(rng, [f"{d.day:02d} {MONTHS[d.month - 1]} {d.year}", f"{d.day:02d}.{d.month:02d}.{d.year}", f"{d.year}-{d.month:02d}-{d.day:02d}"])


def _mrz_name(surname: str, given: str, n: int) -> str:
    """The MRZ name field: ``SURNAME<<GIVEN<NAMES`` filled to ``n`` characters."""
    return _fill(surname.replace(" ", "<") + "<<" + given.replace(" ", "<"), n)


def passport_number(rng: np.random.Generator) -> str:
    """A 9-character document number: one or two letters, then digits."""
    letters = "".join(chr(65 + int(v)) for v in rng.integers(0, 26, 2))
    return pick(rng, [letters[0] + "".join(str(d) for d in rng.integers(0, 10, 8)), letters + "".join(str(d) for d in rng.integers(0, 10, 7))])


def document_dates(rng: np.random.Generator) -> tuple[date, date]:
    """A date of issue (2015-2023) and the date of expiry ten years later."""
    issued = date(2015, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 9)))
    expiry = date(issued.year + 10, issued.month, min(issued.day, 28))
    return issued, expiry


def td3_mrz(doc_type: str, state: str, surname: str, given: str, number: str, nationality: str, birth: date, sex: str, expiry: date, personal: str = "") -> list[str]:
    """The two 44-character lines of a passport (ICAO 9303 TD3), check digits included."""
    c = mrz_check_digit
    l1 = _fill(f"{doc_type}<{state}" if len(doc_type) == 1 else f"{doc_type}{state}", 5) + _mrz_name(surname, given, 39)
    num = _fill(number, 9)
    dob, exp = f"{birth:%y%m%d}", f"{expiry:%y%m%d}"
    per = _fill(personal, 14)
    body = num + c(num) + nationality + dob + c(dob) + sex + exp + c(exp) + per + c(per)
    composite = c(body[0:10] + body[13:20] + body[21:43])
    return [l1, body + composite]


def td2_mrz(doc_type: str, state: str, surname: str, given: str, number: str, nationality: str, birth: date, sex: str, expiry: date) -> list[str]:
    """The two 36-character lines of a TD2 document, check digits included."""
    c = mrz_check_digit
    l1 = _fill(doc_type, 2) + state + _mrz_name(surname, given, 31)
    num, dob, exp = _fill(number, 9), f"{birth:%y%m%d}", f"{expiry:%y%m%d}"
    body = num + c(num) + nationality + dob + c(dob) + sex + exp + c(exp) + "<" * 7
    return [l1, body + c(body[0:10] + body[13:20] + body[21:35])]


def td1_mrz(doc_type: str, state: str, surname: str, given: str, number: str, nationality: str, birth: date, sex: str, expiry: date, optional: str = "") -> list[str]:
    """The three 30-character lines of an ID card (ICAO 9303 TD1), check digits included."""
    c = mrz_check_digit
    num = _fill(number, 9)
    l1 = _fill(doc_type, 2) + state + num + c(num) + _fill(optional, 15)
    dob, exp = f"{birth:%y%m%d}", f"{expiry:%y%m%d}"
    l2 = dob + c(dob) + sex + exp + c(exp) + nationality + "<" * 11
    l2 += c(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    return [l1, l2, _mrz_name(surname, given, 30)]
