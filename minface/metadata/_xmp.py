"""XMP packets: notable properties, orientation, face regions and person names."""

from __future__ import annotations

import re
from typing import Any

from ._reports import _Collector

_XMP_SCAN_LIMIT = 16 << 20  # XMP beyond this is counted, not searched


_XMP_NOTABLE = re.compile(
    rb"(?<![\w:])((?:exif:GPS(?:Latitude|Longitude|Altitude|TimeStamp))|dc:(?:creator|rights|description|title|subject)"
    rb"|xmp:(?:CreateDate|ModifyDate|CreatorTool|MetadataDate)|photoshop:(?:DateCreated|City|State|Country|Credit"
    rb"|AuthorsPosition|CaptionWriter|Source)|aux:(?:SerialNumber|LensSerialNumber|OwnerName)"
    rb"|exifEX:(?:BodySerialNumber|CameraOwnerName|LensSerialNumber)|xmpMM:(?:DocumentID|OriginalDocumentID"
    rb"|InstanceID|History|DerivedFrom)|GCamera:(?:MicroVideo\w*|MotionPhoto\w*)|Container:Directory"
    rb"|Iptc4xmpCore:(?:Location|CreatorContactInfo)|Iptc4xmpExt:(?:PersonInImage\w*|LocationShown|LocationCreated)"
    rb"|tiff:(?:Make|Model|Orientation|Artist)|hdrgm:\w+|MicrosoftPhoto:\w+|lr:hierarchicalSubject"
    rb"|mwg-rs:Regions|MP:RegionInfo|crs:\w+)(?=[\s=>/])"
)
_XMP_NAMES = [
    re.compile(rb'(?:mwg-rs:Name|MPReg:PersonDisplayName|MP:PersonDisplayName)\s*=\s*"([^"<]{1,200})"'),
    re.compile(rb"<(?:mwg-rs:Name|MPReg:PersonDisplayName)>([^<]{1,200})</"),
]
_XMP_PERSON_IN_IMAGE = re.compile(rb"<Iptc4xmpExt:PersonInImage>(.{0,20000}?)</Iptc4xmpExt:PersonInImage>", re.S)
_XMP_LI = re.compile(rb"<rdf:li[^>]{0,200}>([^<]{1,200})</rdf:li>")
_XMP_FACE = re.compile(rb'mwg-rs:Type\s*=\s*"Face"|<mwg-rs:Type>Face</mwg-rs:Type>')
_XMP_ORIENT = re.compile(rb'tiff:Orientation\s*=\s*"(\d)"|<tiff:Orientation>(\d)</tiff:Orientation>')
_XMP_NS = re.compile(rb"xmlns:([\w.-]{1,40})\s*=")


def _xmp_items(x: bytes, location: str, size: int, col: _Collector) -> None:
    """Items for an XMP packet: the packet and, when present, its face regions."""
    if len(x) > _XMP_SCAN_LIMIT:
        col.warn(f"{location}: {len(x):,}-byte XMP, only the first {_XMP_SCAN_LIMIT:,} bytes searched")
    text = x[:_XMP_SCAN_LIMIT]
    notable = sorted({m.decode("latin-1") for m in _XMP_NOTABLE.findall(text)})
    details: dict[str, Any] = {
        "bytes": len(x),
        "namespaces": sorted({m.decode("latin-1") for m in _XMP_NS.findall(text)})[:30],
        "properties": notable[:40],
    }
    o = _XMP_ORIENT.search(text)
    if o:
        details["orientation"] = int(o.group(1) or o.group(2))
    col.add("xmp", location, size, details)

    names: list[str] = []
    for rx in _XMP_NAMES:
        names += [m.decode("utf-8", "replace").strip() for m in rx.findall(text)]
    for block in _XMP_PERSON_IN_IMAGE.findall(text):
        names += [m.decode("utf-8", "replace").strip() for m in _XMP_LI.findall(block)]
    faces = len(_XMP_FACE.findall(text))
    regions = text.count(b"<mwg-rs:Area") + text.count(b"MPReg:Rectangle=") + text.count(b"<MPReg:Rectangle>")
    if faces or regions or names:
        unique = list(dict.fromkeys(n for n in names if n))
        col.add(
            "face-regions",
            f"{location} > regions",
            0,
            {"regions": max(regions, faces), "faces": faces, "person_names": unique[:50]},
        )
