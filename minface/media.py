"""What a file is, told from its content: a photo (which format), a video, or something else.

A photo archive is not a folder of clean JPEGs: it holds phone videos,
``.DS_Store`` and ``Thumbs.db`` files, notes, PDFs. Every verb that walks
folders asks :func:`classify` what each file is, from its first bytes (the
extension is never trusted), and the batch engine routes it:

* ``image``: to the per-file job (scrub, strip, inspect, verify, ...);
* ``video``: to the video scrubber for ``scrub`` and ``verify``
  (:func:`minface.walk.route_other`); a ``skipped`` record (:data:`VIDEO_REASON`)
  for the verbs that read photos only;
* ``other``: a ``skipped`` record saying why ("not an image", "system file
  (...)"); it is never an error and never copied to an output, since a stray
  text file can hold a name and an ID number;

except that a file *named* like a photo (``.jpg``, ``.heic``, ...) whose content
is no image is an error: that is a damaged photo, not a stray file.

This module imports nothing heavy: the planning process of the command line
uses it for every file it walks.

>>> classify("IMG_0001.JPG", b"\\xff\\xd8\\xff\\xe1....").kind
'image'
>>> classify("clip.mov", b"\\x00\\x00\\x00\\x14ftypqt  \\x00\\x00\\x00\\x00qt  ").reason
'video (only scrub and verify read videos)'
>>> classify(".DS_Store", b"\\x00\\x00\\x00\\x01Bud1").reason
'system file (macOS folder settings)'
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "HEAD_BYTES",
    "IMAGE_FORMATS",
    "FORMAT_EXTENSIONS",
    "VIDEO_REASON",
    "format_of_extension",
    "MediaKind",
    "classify",
    "sniff",
    "image_format",
    "read_head",
    "open_regular",
    "entry_type",
]

#: Bytes read from the start of a file to tell what it is (an ISO-BMFF ``ftyp`` box lists its brands there).
HEAD_BYTES = 4096

#: Image formats minface reads, by the names :func:`image_format` returns (Pillow's names).
IMAGE_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "HEIF", "AVIF"})

#: The reason of a video's ``skipped`` record from the verbs that read photos only (strip, inspect, detect).
VIDEO_REASON = "video (only scrub and verify read videos)"

#: The file name extensions of each image format minface writes (Pillow names; the first is the usual one).
FORMAT_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "JPEG": (".jpg", ".jpeg", ".jpe", ".jfif"),
    "PNG": (".png",),
    "WEBP": (".webp",),
    "TIFF": (".tif", ".tiff"),
    "BMP": (".bmp", ".dib"),
    "GIF": (".gif",),
    "AVIF": (".avif",),
    "HEIF": (".heic", ".heif", ".hif"),
}

#: File name extensions of the photos minface reads (lower case): such a file that is no image is an error.
IMAGE_EXTENSIONS = frozenset({ext for exts in FORMAT_EXTENSIONS.values() for ext in exts} | {".apng"})


#: File name extensions of videos (lower case): such a file whose content is no video is an error.
VIDEO_EXTENSIONS = frozenset({".mp4", ".m4v", ".mov", ".qt", ".mkv", ".webm", ".avi", ".3gp", ".mts", ".m2ts", ".wmv", ".flv"})


def format_of_extension(name: str | os.PathLike) -> str | None:
    """The image format a file name's extension stands for, or None.

    >>> format_of_extension("IMG_1.HEIC"), format_of_extension("notes.txt")
    ('HEIF', None)
    """
    ext = os.path.splitext(os.fspath(name))[1].lower()
    return next((fmt for fmt, exts in FORMAT_EXTENSIONS.items() if ext in exts), None)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"}
_AVIF_BRANDS = {b"avif", b"avis"}
# ISO base media (MP4 family) and QuickTime brands of video files
_VIDEO_BRANDS = {
    b"qt  ": "MOV",
    b"M4V ": "M4V",
    b"M4VH": "M4V",
    b"M4VP": "M4V",
    b"3gp4": "3GP",
    b"3gp5": "3GP",
    b"3gp6": "3GP",
    b"3gp7": "3GP",
    b"3g2a": "3GP",
    b"3ge6": "3GP",
    b"f4v ": "F4V",
}
_MP4_BRANDS = {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso8", b"iso9", b"mp41", b"mp42",
               b"mp71", b"avc1", b"dash", b"MSNV", b"XAVC", b"NDAS", b"mmp4", b"3gp9"}
# QuickTime files without an ftyp box start with one of these atoms
_QT_ATOMS = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}

# image formats minface does not read: an error when met, since they are photos all the same
_OTHER_IMAGES: list[tuple[int, bytes, str]] = [
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000"),
    (0, b"\xff\x4f\xff\x51", "JPEG 2000"),
    (0, b"\x00\x00\x00\x0cJXL \r\n\x87\n", "JPEG XL"),
    (0, b"\xff\x0a", "JPEG XL"),
    (0, b"8BPS", "Photoshop (PSD)"),
    (0, b"II+\x00", "BigTIFF"),
    (0, b"MM\x00+", "BigTIFF"),
    (0, b"qoif", "QOI"),
    (0, b"FUJIFILMCCD-RAW", "Fujifilm RAF"),
    (0, b"IIRO", "Olympus ORF"),
    (0, b"IIRS", "Olympus ORF"),
    (0, b"\x0a\x05\x01", "PCX"),
    (0, b"\x0a\x03\x01", "PCX"),
    (0, b"\x0a\x02\x01", "PCX"),
    (0, b"\x0a\x00\x01", "PCX"),
    (0, b"\x00\x00\x01\x00", "ICO"),
    (0, b"DDS ", "DDS"),
    (0, b"gimp xcf", "GIMP XCF"),
    (0, b"#?RADIANCE", "Radiance HDR"),
    (0, b"\x76\x2f\x31\x01", "OpenEXR"),
    (0, b"%!PS-Adobe", "PostScript/EPS"),
]

# what common non-image files are, for the skip reason (never their content: it may be private)
_OTHER_FILES: list[tuple[int, bytes, str]] = [
    (0, b"%PDF-", "PDF document"),
    (0, b"PK\x03\x04", "ZIP archive or office document"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE compound file"),
    (0, b"\x1f\x8b", "gzip archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (0, b"Rar!\x1a\x07", "RAR archive"),
    (0, b"ID3", "MP3 audio"),
    (0, b"fLaC", "FLAC audio"),
    (0, b"OggS", "Ogg media"),
    (0, b"SQLite format 3\x00", "SQLite database"),
    (0, b"\x7fELF", "executable"),
    (0, b"\x00\x00\x00\x01Bud1", "macOS folder settings"),
    (0, b"\x00\x05\x16\x07", "AppleDouble resource fork"),
    (0, b"\x00\x05\x16\x00", "AppleSingle file"),
    (0, b"bplist", "property list"),
    (8, b"WAVE", "WAV audio"),
]

# files operating systems and photo tools leave in photo folders, by name (lower case)
_SYSTEM_NAMES = {
    ".ds_store": "macOS folder settings",
    "thumbs.db": "Windows thumbnail cache",
    "ehthumbs.db": "Windows thumbnail cache",
    "ehthumbs_vista.db": "Windows thumbnail cache",
    "desktop.ini": "Windows folder settings",
    ".picasa.ini": "Picasa settings",
    "picasa.ini": "Picasa settings",
    ".nomedia": "Android media marker",
    ".localized": "macOS folder name marker",
    "icon\r": "macOS folder icon",
    ".thumbdata": "Android thumbnail cache",
}


@dataclass(frozen=True)
class MediaKind:
    """What :func:`classify` found.

    Attributes
    ----------
    kind : {"image", "video", "other"}
        ``image``: a photo format minface reads (:data:`IMAGE_FORMATS`); ``video``:
        a video container; ``other``: anything else.
    format : str or None
        ``"JPEG"``, ``"HEIF"``, ... for images; ``"MP4"``, ``"MOV"``, ``"Matroska"``,
        ``"WebM"``, ``"AVI"``, ... for videos; a description for other files when
        known (``"PDF document"``, ``"JPEG 2000"``).
    reason : str or None
        Why the file is not processed as an image (the report's ``reason`` or
        ``error``); None for images.
    error : bool
        True when the file should fail (an image format minface cannot read, or
        a file named like a photo whose content is none); False for skips.
    """

    kind: Literal["image", "video", "other"]
    format: str | None = None
    reason: str | None = None
    error: bool = False

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


def image_format(head: bytes) -> str | None:
    """The image format minface reads that ``head`` (a file's first bytes) starts, or None.

    >>> image_format(b"\\x89PNG\\r\\n\\x1a\\n...."), image_format(b"hello")
    ('PNG', None)
    """
    d = head
    if d[:3] == b"\xff\xd8\xff":
        return "JPEG"
    if d[:8] == b"\x89PNG\r\n\x1a\n":
        return "PNG"
    if d[:4] == b"RIFF" and d[8:12] == b"WEBP":
        return "WEBP"
    if d[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if d[:4] in (b"II*\0", b"MM\0*"):
        return "TIFF"
    if d[:2] == b"BM" and len(d) >= 26 and int.from_bytes(d[14:18], "little") in (12, 16, 40, 52, 56, 64, 108, 124):
        return "BMP"
    brands = _ftyp_brands(d)
    if brands:
        if brands & _AVIF_BRANDS:
            return "AVIF"
        if brands & _HEIF_BRANDS:
            return "HEIF"
    return None


def _ftyp_brands(d: bytes) -> set[bytes]:
    """Major and compatible brands of an ISO-BMFF ``ftyp`` box at the start of ``d``."""
    if d[4:8] != b"ftyp" or len(d) < 16:
        return set()
    size = min(int.from_bytes(d[0:4], "big"), len(d), HEAD_BYTES)
    return {d[8:12]} | {d[i : i + 4] for i in range(16, max(16, size) - 3, 4)}


def sniff(head: bytes) -> tuple[str, str | None]:
    """``(kind, format)`` from a file's first bytes: kind is ``image``, ``video`` or ``other``.

    ``format`` names the image or video format; for ``other`` it describes the
    file when it is a common type (a PDF, an unreadable image format) and is
    None otherwise.

    >>> sniff(b"\\x1aE\\xdf\\xa3\\x9fB\\x86\\x81\\x01B\\xf7\\x81\\x01B\\xf2\\x81\\x04B\\xf3\\x81\\x08B\\x82\\x84webm")
    ('video', 'WebM')
    >>> sniff(b"RIFF\\x00\\x00\\x00\\x00AVI LIST")
    ('video', 'AVI')
    >>> sniff(b"%PDF-1.7")
    ('other', 'PDF document')
    """
    fmt = image_format(head)
    if fmt is not None:
        return "image", fmt
    if b"crx " in _ftyp_brands(head):  # Canon RAW 3 lists MP4 brands too
        return "other", "Canon CR3"
    video = _video_format(head)
    if video is not None:
        return "video", video
    for table in (_OTHER_IMAGES, _OTHER_FILES):
        for offset, magic, name in table:
            if head[offset : offset + len(magic)] == magic:
                return "other", name
    return "other", None


def _video_format(d: bytes) -> str | None:
    brands = _ftyp_brands(d)
    if brands:
        major = d[8:12]
        if major in _VIDEO_BRANDS:
            return _VIDEO_BRANDS[major]
        for brand in sorted(brands):
            if brand in _VIDEO_BRANDS:
                return _VIDEO_BRANDS[brand]
        if brands & _MP4_BRANDS:
            return "MP4"
        return None
    if d[4:8] in _QT_ATOMS and int.from_bytes(d[0:4], "big") >= 8:
        return "MOV"
    if d[:4] == b"\x1a\x45\xdf\xa3":  # EBML: Matroska or WebM, told by the DocType
        return "WebM" if b"webm" in d[:64] else "Matroska"
    if d[:4] == b"RIFF" and d[8:12] in (b"AVI ", b"AVIX"):
        return "AVI"
    if d[:4] == b"\x00\x00\x01\xba":
        return "MPEG-PS"
    if len(d) >= 377 and d[0] == 0x47 and d[188] == 0x47 and d[376] == 0x47:
        return "MPEG-TS"
    if d[:3] == b"FLV":
        return "FLV"
    if d[:16] == b"\x30\x26\xb2\x75\x8e\x66\xcf\x11\xa6\xd9\x00\xaa\x00\x62\xce\x6c":
        return "ASF"
    return None


def classify(name: str | os.PathLike, head: bytes) -> MediaKind:
    """Tell what a file is from its first bytes (:data:`HEAD_BYTES` of them); its name refines the reason.

    Parameters
    ----------
    name : str or path
        The file's name or path (only its last part is used, and only to name
        system files and to notice a photo whose content is damaged).
    head : bytes
        The file's first bytes.

    Returns
    -------
    MediaKind

    Examples
    --------
    >>> classify("notes.txt", b"Alice Smith, ID 1234").reason
    'not an image'
    >>> k = classify("holiday.jpg", b"Alice Smith, ID 1234"); k.error, k.reason
    (True, 'not a recognised image format, although named like one (.jpg): damaged or renamed')
    >>> classify("scan.jp2", b"\\x00\\x00\\x00\\x0cjP  \\r\\n\\x87\\n").reason
    'JPEG 2000 images are not supported'
    >>> classify("empty.bin", b"").reason
    'empty file'
    >>> k = classify("IMG_1.jpg", b""); k.error, k.reason
    (True, 'empty file, named like a photo (.jpg), content is not one: a lost upload or copy?')
    """
    base = os.path.basename(os.fspath(name))
    kind, fmt = sniff(head)
    if kind == "image":
        return MediaKind("image", fmt)
    if kind == "video":
        return MediaKind("video", fmt, VIDEO_REASON)
    system = _SYSTEM_NAMES.get(base.lower())
    if system is None and base.startswith("._") and fmt == "AppleDouble resource fork":
        system = "macOS resource fork"
    if system is not None:
        return MediaKind("other", fmt, f"system file ({system})")
    if fmt in {n for _, _, n in _OTHER_IMAGES} or fmt == "Canon CR3":
        return MediaKind("other", fmt, f"{fmt} images are not supported", error=True)
    ext = os.path.splitext(base)[1].lower()
    # one rule: a file named like a photo (or a video) whose content is not one is an error,
    # an empty one (a lost upload) included
    named = "image" if ext in IMAGE_EXTENSIONS else "video" if ext in VIDEO_EXTENSIONS else None
    if named is not None:
        if not head:
            like = "photo" if named == "image" else "video"
            return MediaKind(
                "other", None, f"empty file, named like a {like} ({ext}), content is not one: a lost upload or copy?",
                error=True,
            )
        what = f" ({fmt})" if fmt else ""
        return MediaKind(
            "other", fmt, f"not a recognised {named} format{what}, although named like one ({ext}): damaged or renamed",
            error=True,
        )
    if not head:
        return MediaKind("other", None, "empty file")
    return MediaKind("other", fmt, f"not an image ({fmt})" if fmt else "not an image")


# ---------------------------------------------------------------------------
# Reading files safely: regular files only, so a FIFO or a device never blocks
# ---------------------------------------------------------------------------


def entry_type(mode: int) -> str | None:
    """What a non-regular file is, from its ``st_mode`` (None for a regular file).

    >>> entry_type(stat.S_IFIFO), entry_type(stat.S_IFREG)
    ('FIFO', None)
    """
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    return "special file"


def open_regular(path: str | os.PathLike) -> int:
    """Open ``path`` for reading only if it is a regular file (links followed); return the descriptor.

    A FIFO would block ``open`` and ``read`` forever, and a device can be endless:
    the file is opened non-blocking, checked with ``fstat``, and only then read.

    Raises
    ------
    OSError
        The file cannot be opened, or it is not a regular file (``errno.EINVAL``,
        with a message naming what it is).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        what = entry_type(st.st_mode)
        if what is not None:
            raise OSError(errno.EINVAL, f"not a regular file ({what})", os.fspath(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_head(path: str | os.PathLike, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of a regular file (see :func:`open_regular`).

    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> _ = open(p, "wb").write(b"GIF89a...")
    >>> read_head(p, 6)
    b'GIF89a'
    """
    fd = open_regular(path)
    try:
        chunks, left = [], size
        while left > 0:
            chunk = os.read(fd, left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
