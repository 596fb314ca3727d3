from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from conftest import STORE_FOR_ORIENTATION, astronaut, jpeg_bytes
from PIL import Image, ImageOps

import minface
from minface.errors import CorruptImageError, DecompressionBombError, ImageError, UnsupportedImageError
from minface.images import apply_orientation, decode_image, load_image


def png_bytes(im: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


RGB = np.random.default_rng(1).integers(0, 256, (30, 40, 3), dtype=np.uint8)


class TestSources:
    def test_every_source_kind_gives_the_same_pixels(self, tmp_path):
        data = png_bytes(Image.fromarray(RGB))
        path = tmp_path / "a.png"
        path.write_bytes(data)
        for src in (path, str(path), data, bytearray(data), memoryview(data), io.BytesIO(data), Image.open(io.BytesIO(data)), RGB):
            out = load_image(src)
            assert out.dtype == np.uint8 and out.shape == (30, 40, 3) and out.flags.c_contiguous
            np.testing.assert_array_equal(out, RGB)

    def test_rgb_uint8_array_is_not_copied(self):
        assert load_image(RGB) is RGB

    def test_open_file_object_is_left_open(self, tmp_path):
        path = tmp_path / "a.png"
        path.write_bytes(png_bytes(Image.fromarray(RGB)))
        with open(path, "rb") as f:
            load_image(f)
            assert not f.closed

    def test_wrong_extension_is_sniffed(self, tmp_path):
        path = tmp_path / "really_a_jpeg.png"
        path.write_bytes(jpeg_bytes(RGB))
        assert load_image(path).shape == (30, 40, 3)
        assert decode_image(path).format == "JPEG"

    @pytest.mark.parametrize(
        "arr, expected",
        [
            (np.full((4, 5), 7, np.uint8), 7),
            (np.full((4, 5, 1), 9, np.uint8), 9),
            (np.full((4, 5, 4), 200, np.uint8), 200),
            (np.full((4, 5), 65535, np.uint16), 255),
            (np.full((4, 5, 3), 0.5, np.float32), 128),
            (np.ones((4, 5), bool), 255),
            (np.full((4, 5), 3, np.int64), 3),
        ],
    )
    def test_array_dtypes_and_channels(self, arr, expected):
        out = load_image(arr)
        assert out.shape == (4, 5, 3) and out.dtype == np.uint8
        assert (out == expected).all()

    @pytest.mark.parametrize(
        "arr, msg",
        [
            (np.zeros((0, 5, 3), np.uint8), "empty"),
            (np.zeros((4, 5, 2), np.uint8), "shape"),
            (np.zeros((2, 4, 5, 3), np.uint8), "shape"),
            (np.full((4, 5), 2.0), r"\[0, 1\]"),
            (np.full((4, 5), np.nan), "NaN"),
            (np.full((4, 5), -1, np.int32), "dtype"),
            (np.zeros((4, 5), np.complex64), "dtype"),
        ],
    )
    def test_bad_arrays(self, arr, msg):
        with pytest.raises(UnsupportedImageError, match=msg):
            load_image(arr)

    def test_unsupported_source_type(self):
        with pytest.raises(UnsupportedImageError, match="cannot load an image from int"):
            load_image(42)  # type: ignore[arg-type]


class TestModes:
    def test_grayscale_palette_rgba_cmyk(self):
        gray = Image.fromarray(RGB[:, :, 0])
        assert (load_image(gray)[:, :, 1] == RGB[:, :, 0]).all()
        pal = Image.fromarray(RGB).convert("P")
        np.testing.assert_array_equal(load_image(pal), np.asarray(pal.convert("RGB")))
        rgba = Image.fromarray(np.dstack([RGB, np.full(RGB.shape[:2], 10, np.uint8)]))
        np.testing.assert_array_equal(load_image(rgba), RGB)
        cmyk = Image.fromarray(RGB).convert("CMYK")
        out = load_image(io.BytesIO(_save(cmyk, "JPEG", quality=100)))
        assert out.shape == RGB.shape and np.abs(out.astype(int) - RGB).mean() < 12
        la = Image.fromarray(RGB[:, :, 0]).convert("LA")
        assert load_image(la).shape == RGB.shape
        bilevel = Image.fromarray(RGB[:, :, 0] > 128)
        assert set(np.unique(load_image(bilevel))) <= {0, 255}

    def test_palette_with_transparency_keeps_alpha_when_asked(self):
        pal = Image.fromarray(RGB).convert("P")
        pal.info["transparency"] = 0
        data = png_bytes(pal, transparency=0)
        assert decode_image(data, alpha=True).pixels.shape == (30, 40, 4)
        assert decode_image(data).pixels.shape == (30, 40, 3)

    def test_sixteen_bit_png(self):
        g16 = (np.arange(30 * 40, dtype=np.uint32).reshape(30, 40) * 50).astype(np.uint16)
        out = load_image(png_bytes(Image.fromarray(g16)))
        np.testing.assert_array_equal(out[:, :, 0], np.round(g16 / 257).astype(np.uint8))

    def test_float_tiff(self):
        f = (RGB[:, :, 0] / 255.0).astype(np.float32)
        out = load_image(_save(Image.fromarray(f, mode="F"), "TIFF"))
        assert np.abs(out[:, :, 0].astype(int) - RGB[:, :, 0]).max() <= 1

    def test_animated_gif_gives_first_frame(self):
        frames = [Image.fromarray(np.full((8, 8, 3), v, np.uint8)) for v in (0, 255)]
        buf = io.BytesIO()
        frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
        d = decode_image(buf.getvalue())
        assert d.n_frames == 2 and d.pixels.max() == 0


def _save(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


class TestOrientation:
    @pytest.mark.parametrize("orientation", range(1, 9))
    def test_matches_pillow_exif_transpose(self, orientation):
        data = jpeg_bytes(astronaut()[::4, ::3], orientation=orientation)
        expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
        out = decode_image(data)
        assert out.orientation == orientation
        np.testing.assert_array_equal(out.pixels, expected)

    @pytest.mark.parametrize("orientation", range(1, 9))
    def test_stored_rotated_comes_back_upright(self, orientation):
        upright = astronaut()[::4, ::3]  # 128 x 171, not square
        stored = np.ascontiguousarray(STORE_FOR_ORIENTATION[orientation](upright))
        out = load_image(jpeg_bytes(stored, orientation=orientation, quality=100))
        assert out.shape == upright.shape
        assert np.abs(out.astype(int) - upright).mean() < 3

    def test_orient_false_keeps_stored_pixels(self):
        stored = np.ascontiguousarray(np.rot90(RGB))
        out = load_image(jpeg_bytes(stored, orientation=6), orient=False)
        assert out.shape == stored.shape

    def test_pil_image_input_is_oriented(self):
        stored = np.ascontiguousarray(np.rot90(RGB))
        im = Image.open(io.BytesIO(jpeg_bytes(stored, orientation=6)))
        assert load_image(im).shape == RGB.shape

    def test_corrupt_exif_loads_pixels_upright_as_stored(self):
        data = bytearray(jpeg_bytes(RGB, orientation=6))
        i = data.index(b"Exif\x00\x00")
        data[i + 10 : i + 14] = b"\xff\xff\xff\x7f"  # IFD0 offset far past the segment
        out = decode_image(bytes(data))
        assert out.orientation == 1 and out.pixels.shape == RGB.shape

    def test_apply_orientation_identity(self):
        assert apply_orientation(RGB, 1) is RGB
        assert apply_orientation(RGB, 0) is RGB


class TestBadFiles:
    def test_zero_byte_file(self, tmp_image):
        with pytest.raises(UnsupportedImageError, match="empty file"):
            load_image(tmp_image("empty.jpg", b""))

    def test_not_an_image(self, tmp_image):
        with pytest.raises(UnsupportedImageError, match="not a recognised image format"):
            load_image(tmp_image("notes.jpg", b"hello, this is text\n" * 10))

    def test_truncated_jpeg(self, tmp_image):
        data = jpeg_bytes(astronaut())
        with pytest.raises(CorruptImageError, match="truncated JPEG"):
            load_image(tmp_image("cut.jpg", data[: len(data) // 2]))

    def test_truncated_and_damaged_png(self, tmp_image):
        data = png_bytes(Image.fromarray(RGB))
        with pytest.raises(CorruptImageError, match="cannot decode PNG"):
            load_image(tmp_image("cut.png", data[: len(data) - 40]))
        idat = data.index(b"IDAT") + 4
        broken = data[:idat] + b"\xff\xff" + data[idat + 2 :]  # invalid zlib header
        with pytest.raises(CorruptImageError):
            load_image(tmp_image("bad.png", broken))

    def test_decompression_bomb_is_refused_before_decoding(self, tmp_image):
        path = tmp_image("bomb.png", _png_header_only(12_000, 12_000))
        with pytest.raises(DecompressionBombError, match="exceeds max_pixels=100,000,000"):
            load_image(path, max_pixels=100_000_000)
        huge = tmp_image("huge.png", _png_header_only(60_000, 60_000))
        with pytest.raises(DecompressionBombError, match="decompression bomb"):
            load_image(huge)  # above Pillow's own limit, which checks first

    def test_small_limit(self):
        with pytest.raises(DecompressionBombError, match="1,200 pixels exceeds max_pixels=1,000"):
            load_image(png_bytes(Image.fromarray(RGB)), max_pixels=1000)

    def test_unsupported_format(self):
        with pytest.raises(UnsupportedImageError, match="PCX images are not supported"):
            load_image(_save(Image.fromarray(RGB), "PCX"))

    def test_missing_file_and_directory(self, tmp_path):
        with pytest.raises(UnsupportedImageError, match="cannot read file"):
            load_image(tmp_path / "nope.jpg")
        with pytest.raises(UnsupportedImageError, match="directory"):
            load_image(tmp_path)

    def test_errors_are_oserrors_and_minface_errors(self):
        assert issubclass(ImageError, OSError) and issubclass(ImageError, minface.MinfaceError)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
