"""The synthetic documents: their numbers are format-valid and their ground truth is exact."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest
from conftest import background, paste_faces
from PIL import Image

import document_numbers as dn
import document_samples as ds


@pytest.fixture(scope="module", autouse=True)
def fonts():
    ds.require_fonts()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A KYC photo made here: the astronaut's head on a background, its face box known."""
    scene = paste_faces(background("coffee", 900, 700), [(330, 120, 170)])
    path = tmp_path_factory.mktemp("kyc") / "selfie.jpg"
    Image.fromarray(scene.image).save(path, quality=92)
    return [(path, scene.faces.astype(np.float64))]


def test_id_numbers_have_a_region_a_real_birth_date_and_the_check_character():
    assert dn.valid_id_number("11010519491231002X")  # the GB 11643 specimen
    rng = np.random.default_rng(0)
    provinces = {code for _, code in dn.PROVINCES}
    for _ in range(300):
        person = dn.random_person(rng)
        number = dn.random_id_number(rng, person)
        assert dn.valid_id_number(number), number
        assert number[:2] in provinces and number[:2] == person.province_code
        assert date(int(number[6:10]), int(number[10:12]), int(number[12:14])) == person.birth
        assert int(number[16]) % 2 == (1 if person.sex == "M" else 0)
        wrong = number[:5] + str((int(number[5]) + 1) % 10) + number[6:]
        assert not dn.valid_id_number(wrong)  # one digit off: the check character no longer matches
    assert not dn.valid_id_number("110105194902300021")  # 30 February


def test_card_numbers_pass_luhn_except_some_unionpay_ones_and_are_grouped_whole():
    rng = np.random.default_rng(1)
    failing, lengths = [], set()
    for _ in range(400):
        number, groups = dn.random_card_number(rng)
        assert number.isdigit() and 13 <= len(number) <= 19 and sum(groups) == len(number)
        assert dn.group_digits(number, groups).replace(" ", "") == number
        lengths.add(len(number))
        if not dn.luhn_valid(number):
            failing.append(number)
    assert failing and all(n.startswith("62") for n in failing)
    assert len(failing) < 100
    assert {13, 14, 15, 16, 19} <= lengths
    assert dn.luhn_valid("4111111111111111") and not dn.luhn_valid("4111111111111121")


def test_mrz_lines_have_the_icao_check_digits():
    specimen = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
    assert dn.mrz_valid(specimen)
    assert dn.td3_mrz("P", "UTO", "ERIKSSON", "ANNA MARIA", "L898902C3", "UTO", date(1974, 8, 12), "F", date(2012, 4, 15), "ZE184226B") == specimen
    assert not dn.mrz_valid([specimen[0], specimen[1][:14] + "9" + specimen[1][15:]])
    born, until = date(1990, 2, 28), date(2031, 7, 1)
    for lines, shape in (
        (dn.td3_mrz("P", "CHN", "ZHANG", "WEI", "E12345678", "CHN", born, "M", until), (44, 44)),
        (dn.td2_mrz("I", "D<<", "LI", "NA", "T22000129", "D<<", born, "F", until), (36, 36)),
        (dn.td1_mrz("ID", "UTO", "SMITH", "JO ANN", "D23145890", "UTO", born, "F", until), (30, 30, 30)),
    ):
        assert tuple(len(x) for x in lines) == shape and dn.mrz_valid(lines)
        assert all(re.fullmatch(r"[A-Z0-9<]+", x) for x in lines)
        broken = list(lines)
        row = 1 if len(lines) == 2 else 0
        i = 5 if len(lines) == 3 else 0  # a document number character
        broken[row] = broken[row][:i] + ("Z" if broken[row][i] != "Z" else "Y") + broken[row][i + 1 :]
        assert not dn.mrz_valid(broken)


def test_phones_and_emails_have_their_forms():
    rng = np.random.default_rng(2)
    for _ in range(200):
        printed, national = dn.random_phone(rng)
        digits = re.sub(r"\D", "", printed)
        assert national in digits or national in digits.lstrip("0")
        if len(national) == 11 and national[0] == "1":
            assert re.fullmatch(r"1[3-9]\d{9}", national)
        else:
            assert printed.startswith(("+", "00"))
        assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.]+\.[a-z]+", dn.random_email(rng))


@pytest.mark.parametrize("kind", ds.DOCUMENT_KINDS)
def test_every_stroke_of_a_flat_document_lies_in_a_field(kind):
    for seed in range(3):
        doc = ds.render_document(kind, np.random.default_rng(seed), width=640)
        h, w = doc.ink.shape
        ink = doc.ink > 0
        union = np.zeros_like(ink)
        for f in doc.fields:
            m = ds.quad_mask(f.quad, w, h)
            if f.kind == "document_portrait":
                assert ds.quad_mask(f.face, w, h).sum() > 0.15 * m.sum()
                assert (ds.quad_mask(f.face, w, h) <= m).all()
                continue
            assert (ink & m).any(), f"{f.kind} field {f.value!r} has no ink"
            union |= m
        assert not (ink & ~union).any()
        kinds = {f.kind for f in doc.fields}
        expected = {"id_front": {"id_number", "document_portrait"}, "bank_card": {"bank_card"}, "passport": {"mrz", "document_portrait"},
                    "td1": {"mrz"}, "td2": {"mrz", "document_portrait"}, "form": {"phone", "email"}, "id_back": {"document_text"}}[kind]
        assert expected <= kinds


@pytest.mark.parametrize("scene", ds.SCENES)
def test_warped_fields_hold_the_warped_ink(scene, photos):
    for index in range(2):
        s = ds.make_sample(index, seed=7, scene=scene, photos=photos, with_ink=True, augment=False)
        assert s.scene == scene and s.jpeg[:2] == b"\xff\xd8" and s.image.shape[:2] == s.ink.shape
        assert all(f.inside(s.width, s.height) for f in s.fields)
        assert all(p.quad.min() >= 0 and (p.quad <= [s.width, s.height]).all() for p in s.documents)
        union = np.zeros(s.ink.shape, bool)
        for f in s.fields:
            if f.kind != "document_portrait":
                union |= ds.quad_mask(ds.grow_quad(f.quad, 1.0), s.width, s.height)
        ink = s.ink > 64
        assert ink.sum() > 500
        assert (ink & ~union).sum() <= 0.002 * ink.sum()
        for a in range(len(s.documents)):  # documents never cover each other's fields
            for b in range(a + 1, len(s.documents)):
                area, _ = __import__("cv2").intersectConvexConvex(s.documents[a].quad.astype(np.float32), s.documents[b].quad.astype(np.float32))
                assert area == 0
        if scene == "kyc":
            assert s.faces and len(s.documents) == 1
        if scene == "turned":
            assert s.turned in (1, 3)
        if scene == "two":
            assert len(s.documents) == 2


def test_a_turned_photo_is_the_upright_one_turned():
    for k, (w, h) in ((1, (7, 5)), (3, (7, 5)), (2, (4, 9))):
        img = np.arange(w * h).reshape(h, w)
        t = ds.turn_matrix(k, w, h)
        turned = np.rot90(img, k)
        for x, y in ((0, 0), (3, 2), (w - 1, h - 1)):
            cx, cy = ds.apply_h(t, np.array([[x + 0.5, y + 0.5]]))[0]
            assert turned[int(cy), int(cx)] == img[y, x]


def test_samples_are_deterministic_and_do_not_depend_on_the_set_size(photos):
    a = ds.make_sample(4, seed=3, photos=photos)
    b = ds.make_sample(4, seed=3, photos=photos)
    assert a.jpeg == b.jpeg and all(np.array_equal(f.quad, g.quad) and f.value == g.value for f, g in zip(a.fields, b.fields))
    assert ds.make_sample(4, seed=4, photos=photos).jpeg != a.jpeg
    first = list(ds.make_set(5, seed=3, photos=photos))
    assert first[4].jpeg == a.jpeg
    assert [s.index for s in first] == list(range(5))
    truth = a.truth()
    assert truth["width"] == a.width and len(truth["fields"]) == len(a.fields)
