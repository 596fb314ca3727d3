"""What a file is, from its first bytes: images, videos, system files and the rest."""

from __future__ import annotations

import io
import os
import struct

import hostile_samples as H
import numpy as np
import pytest
from PIL import Image

from minface import media


def _png() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body


@pytest.mark.parametrize(
    ("head", "kind", "fmt"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image", "JPEG"),
        (_png(), "image", "PNG"),
        (b"GIF89a\x01\x00\x01\x00", "image", "GIF"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image", "WEBP"),
        (b"II*\x00\x08\x00\x00\x00", "image", "TIFF"),
        (b"BM" + bytes(12) + struct.pack("<I", 40) + bytes(20), "image", "BMP"),
        (ftyp(b"heic", b"mif1", b"heic"), "image", "HEIF"),
        (ftyp(b"mif1", b"heic"), "image", "HEIF"),
        (ftyp(b"avif", b"mif1", b"avif"), "image", "AVIF"),
        (ftyp(b"isom", b"isom", b"mp41"), "video", "MP4"),
        (ftyp(b"mp42", b"mp42", b"isom"), "video", "MP4"),
        (ftyp(b"qt  ", b"qt  "), "video", "MOV"),
        (ftyp(b"M4V ", b"M4V ", b"mp42"), "video", "M4V"),
        (ftyp(b"3gp4", b"3gp4"), "video", "3GP"),
        (struct.pack(">I", 8) + b"wide" + struct.pack(">I", 16) + b"mdat", "video", "MOV"),
        (H.webm(), "video", "WebM"),
        (b"\x1a\x45\xdf\xa3\x93\x42\x82\x88matroska", "video", "Matroska"),
        (H.avi(), "video", "AVI"),
        (ftyp(b"crx ", b"crx ", b"isom"), "other", "Canon CR3"),
        (b"%PDF-1.4", "other", "PDF document"),
        (b"8BPS\x00\x01", "other", "Photoshop (PSD)"),
        (b"BMW 3 series, bought 2019", "other", None),
        (b"hello", "other", None),
    ],
)
def test_sniff(head, kind, fmt):
    assert media.sniff(head) == (kind, fmt)


def test_classify_reasons():
    assert media.classify("a.HEIC", ftyp(b"heic", b"mif1")).is_image
    video = media.classify("IMG_0001.MOV", ftyp(b"qt  ", b"qt  "))
    assert (video.kind, video.format, video.reason, video.error) == ("video", "MOV", media.VIDEO_REASON, False)
    assert media.classify(".DS_Store", b"\0\0\0\1Bud1").reason == "system file (macOS folder settings)"
    assert media.classify("Thumbs.db", H.ole()).reason == "system file (Windows thumbnail cache)"
    assert media.classify("._IMG_1.JPG", b"\x00\x05\x16\x07\x00\x02").reason == "system file (macOS resource fork)"
    assert media.classify("desktop.ini", b"[.ShellClassInfo]").reason == "system file (Windows folder settings)"
    other = media.classify("readme.txt", b"Alice Smith, ID 1234")
    assert (other.kind, other.reason, other.error) == ("other", "not an image", False)
    assert "Alice" not in (other.reason or "")  # a reason never quotes the content: it may be private
    assert media.classify("empty", b"").reason == "empty file"
    assert not media.classify("empty", b"").error
    for name, like in (("IMG_1.jpg", "photo"), ("IMG_2.HEIC", "photo"), ("clip.mp4", "video")):
        empty = media.classify(name, b"")  # a lost upload: the same rule as any photo-named non-photo
        assert empty.error and f"named like a {like}" in (empty.reason or "") and "content is not one" in (empty.reason or "")
    named = media.classify("holiday.JPG", b"Alice Smith, ID 1234")
    assert named.error and "named like one (.jpg)" in (named.reason or "")
    unsupported = media.classify("scan.jp2", b"\x00\x00\x00\x0cjP  \r\n\x87\n")
    assert unsupported.error and unsupported.reason == "JPEG 2000 images are not supported"


def test_read_head_never_blocks_on_a_fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this system")
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match=r"not a regular file \(FIFO\)"):
        media.read_head(fifo)  # opened non-blocking, refused before any read
    with pytest.raises(OSError, match=r"not a regular file \(folder\)"):
        media.read_head(tmp_path)


def test_extensions_and_formats():
    assert media.format_of_extension("x/IMG_1.JPEG") == "JPEG"
    assert media.format_of_extension("a.heif") == "HEIF" and media.format_of_extension("a.mp4") is None
    assert ".heic" in media.IMAGE_EXTENSIONS and ".txt" not in media.IMAGE_EXTENSIONS
