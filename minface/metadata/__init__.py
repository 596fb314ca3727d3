"""Inspect and strip image metadata: the only part of minface that reads or writes it.

:func:`inspect` lists what a file carries besides its pixels: EXIF (GPS, maker
notes, serial numbers, owner and artist, dates, orientation, the IFD1
thumbnail), XMP (with face regions and person names), IPTC and other Photoshop
resources, ICC profiles (with their dates, device and creator fields), comments,
other APPn segments (MPF, JUMBF/C2PA, ...), PNG text, time and private chunks,
WebP EXIF/XMP/ICCP chunks, GIF comment and application extensions, and bytes
after the end of the image (motion-photo videos, MPF secondary images,
aCropalypse leftovers). The containers (JPEG segments, PNG chunks, RIFF/WebP
chunks, GIF blocks, TIFF IFDs) are parsed here with bounds checks; damaged
metadata is reported, never fatal.

:func:`strip` and :func:`strip_bytes` write a copy that keeps only the pixels:

* **JPEG, PNG, WebP and GIF are rewritten losslessly**: the compressed image data
  is copied unchanged and only the segments a decoder needs are kept, so the
  decoded pixels are identical (checked after every strip when ``verify=True``).

  - JPEG: SOI, DQT, SOF*, DHT, DAC, DRI, DNL, SOS with its entropy-coded data, EOI.
    A JFIF APP0 is replaced by a canonical one (version 1.01, no density, no
    thumbnail) when the original had one, and an Adobe APP14 by a canonical one
    holding only its colour-transform byte (it decides how the decoder turns
    YCCK/CMYK or RGB data into colours). Every other APPn, every COM and
    everything after EOI is dropped; so is anything between segments.
  - PNG: IHDR, PLTE, tRNS, IDAT, IEND, the APNG chunks acTL/fcTL/fdAT, and the
    colour chunks gAMA, cHRM, sRGB and cICP (a few fixed-size numbers each, needed
    to show the colours as intended). Text, time, eXIf, pHYs, bKGD, sBIT and all
    private chunks are dropped, as are bytes hidden in IDAT after the end of the
    zlib stream and anything after IEND.
  - WebP: VP8/VP8L (+ALPH), or VP8X with ANIM/ANMF frames (unknown sub-chunks
    removed); the VP8X flags are recomputed. EXIF, XMP, unknown chunks and bytes
    after the RIFF end are dropped.
  - GIF: header, screen descriptor, colour tables, graphic control extensions,
    the NETSCAPE/ANIMEXTS loop extension and the image blocks, so every frame
    keeps its duration, disposal and transparency, and the loop count is kept.
    Comment, plain-text and other application extensions (XMP, ICC) are dropped.

* **HEIF/HEIC and AVIF are rewritten losslessly** too: the primary image (and
  any other top-level image, with its tiles and alpha) keeps its coded data,
  less the NAL units and OBUs that can carry text; Exif and XMP items,
  thumbnails, depth and gain maps are dropped (see :mod:`minface.metadata._heif`).
  A structure the rewrite does not handle (an image sequence, a protected item)
  is re-encoded at ``quality`` instead, and the report's ``notes`` say so.

* **TIFF and BMP are re-encoded** from the decoded pixels with nothing else
  (TIFF with lossless deflate, BMP as is). Reduced-resolution TIFF pages
  (thumbnails) are dropped. Re-encoded images are 8 bits per channel.

* **Orientation** (``keep_orientation=True``, the default): a non-upright photo
  keeps its orientation as a minimal EXIF block that holds only the Orientation
  tag (JPEG APP1, PNG eXIf, WebP EXIF chunk). That keeps the rewrite lossless and
  the tag says nothing about the photographer. With ``keep_orientation=False`` the
  orientation is applied to the pixels instead and no EXIF is written; for JPEG
  and lossy WebP that means re-encoding (with the original JPEG quantization
  tables, to limit the loss). A HEIF or AVIF keeps its ``irot``/``imir``
  rotation in the lossless rewrite; formats that are re-encoded anyway (TIFF,
  BMP) always get the orientation applied to their pixels. The
  orientation read is the one :func:`minface.load_image` and
  ``PIL.ImageOps.exif_transpose`` use (EXIF, else XMP ``tiff:Orientation``).

* **ICC profiles** (``icc="clean"``, the default): a profile is rebuilt by
  :func:`clean_icc_profile` from its colour-defining tags only (white point,
  colorants, tone curves, chromatic adaptation, colour lookup tables), with a
  blank header (no date, platform, device maker or model, creator, profile ID)
  and a generic description naming the colour space ("Display P3",
  "Adobe RGB (1998)", ... or just "RGB"). A wide-gamut photo so keeps its exact
  colours. A profile that describes sRGB is dropped, since an untagged image is
  sRGB, and so is a profile that is damaged or defines no colours.
  ``icc="drop"`` drops every profile (the colours of wide-gamut photos shift).

Malformed metadata (bad IFD offsets, zero-denominator rationals, truncated
segments, huge XMP) does not matter to the lossless rewrite, which never parses
it; a damaged image container raises :class:`~minface.errors.CorruptImageError`
and nothing is written. Outputs are written atomically (temporary file, fsync,
rename) and the source is never modified unless ``in_place=True``.

>>> import io, numpy as np
>>> from PIL import Image
>>> buf = io.BytesIO()
>>> Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "JPEG", comment=b"Alice's phone")
>>> [item.kind for item in inspect(buf.getvalue()).items]
['jfif', 'comment']
>>> clean, report = strip_bytes(buf.getvalue())
>>> inspect(clean).clean, report.pixels_identical
(True, True)
"""

# The work is split by responsibility into private modules; this package only
# re-exports the public names (and the few helpers other minface modules use):
#   _reports     MetadataItem, MetadataReport, StripReport and the collector parsers fill
#   _source      reading a source, sniff_format, opening headers with Pillow
#   _binary      byte-level helpers and the internal _Malformed exception
#   _exif        TIFF IFD reader, EXIF/GPS/maker-note items, orientation_exif
#   _xmp, _iptc  XMP packets; IPTC datasets and Photoshop resources
#   _icc         ICC parsing, the sRGB test, clean_icc_profile
#   _trailer     bytes after the end of the image
#   _jpeg, _png, _webp, _gif   layout, inspection and lossless rewrite per container
#   _other_formats             TIFF files, BMP, HEIF/AVIF (through their tags or Pillow)
#   _reencode    decode, re-encode and verify pixels
#   _core        inspect, strip, strip_bytes
#   _exiftool    EXIFTOOL_ALLOWED and exiftool_residue (an independent cross-check)

from __future__ import annotations

from ._core import IccPolicy as IccPolicy  # type aliases and limits: importable as before, not in __all__
from ._core import inspect, strip, strip_bytes
from ._exif import orientation_exif
from ._exiftool import EXIFTOOL_ALLOWED, exiftool_residue
from ._icc import clean_icc_profile
from ._reports import MetadataItem, MetadataReport, StripReport
from ._source import MAX_FILE_BYTES as MAX_FILE_BYTES
from ._source import MetadataSource as MetadataSource
from ._source import sniff_format

__all__ = [
    "MetadataItem",
    "MetadataReport",
    "StripReport",
    "inspect",
    "strip",
    "strip_bytes",
    "sniff_format",
    "clean_icc_profile",
    "orientation_exif",
    "exiftool_residue",
    "EXIFTOOL_ALLOWED",
]
