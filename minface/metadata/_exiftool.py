"""Cross-check with exiftool: what it may still report in a stripped file, and a runner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable

from ..errors import MetadataError, MissingDependencyError
from ._icc import _KNOWN_RGB

#: What exiftool may still report in a stripped file, by group (``exiftool -G1``).
#: Groups mapped to None describe the file or are computed (always allowed); the
#: others allow only the listed tags, which describe how the pixels are stored
#: (dimensions, bit depth, compression, colour) or the orientation tag and clean
#: ICC profile minface keeps on purpose.
EXIFTOOL_ALLOWED: dict[str, frozenset[str] | None] = {
    "ExifTool": frozenset({"ExifToolVersion"}),
    "System": None,
    "File": None,
    "Composite": None,
    "JFIF": frozenset({"JFIFVersion", "ResolutionUnit", "XResolution", "YResolution"}),
    "Adobe": frozenset({"DCTEncodeVersion", "APP14Flags0", "APP14Flags1", "ColorTransform"}),
    "IFD0": frozenset(
        {
            "Orientation", "ImageWidth", "ImageHeight", "BitsPerSample", "Compression",
            "PhotometricInterpretation", "StripOffsets", "SamplesPerPixel", "RowsPerStrip",
            "StripByteCounts", "PlanarConfiguration", "Predictor", "ExtraSamples", "SampleFormat",
            "TileWidth", "TileLength", "TileOffsets", "TileByteCounts", "ColorMap", "FillOrder",
            "XResolution", "YResolution", "ResolutionUnit", "SubfileType", "YCbCrSubSampling",
            "YCbCrPositioning", "ReferenceBlackWhite", "YCbCrCoefficients",
        }
    ),
    "PNG": frozenset(
        {
            "ImageWidth", "ImageHeight", "BitDepth", "ColorType", "Compression", "Filter", "Interlace",
            "Gamma", "SRGBRendering", "WhitePointX", "WhitePointY", "RedX", "RedY", "GreenX", "GreenY",
            "BlueX", "BlueY", "Palette", "Transparency", "AnimationFrames", "AnimationPlays",
            "ColorPrimaries", "TransferCharacteristics", "MatrixCoefficients", "VideoFullRangeFlag",
            "ProfileName",
        }
    ),
    "RIFF": frozenset(
        {
            "ImageWidth", "ImageHeight", "VP8Version", "HorizontalScale", "VerticalScale", "AlphaIsUsed",
            "WebP_Flags", "AnimationLoopCount", "BackgroundColor", "Duration", "AlphaPreprocessing",
            "AlphaFiltering", "AlphaCompression",
        }
    ),
    "GIF": frozenset(
        {
            "GIFVersion", "ImageWidth", "ImageHeight", "HasColorMap", "ColorResolutionDepth",
            "BitsPerPixel", "BackgroundColor", "AnimationIterations", "FrameCount", "Duration",
            "TransparentColor", "PixelAspectRatio",
        }
    ),
    "QuickTime": frozenset(
        {
            "MajorBrand", "MinorVersion", "CompatibleBrands", "HandlerType", "PrimaryItemReference",
            "HEVCConfigurationVersion", "GeneralProfileSpace", "GeneralTierFlag", "GeneralProfileIDC",
            "GenProfileCompatibilityFlags", "ConstraintIndicatorFlags", "GeneralLevelIDC",
            "MinSpatialSegmentationIDC", "ParallelismType", "ChromaFormat", "BitDepthLuma",
            "BitDepthChroma", "AverageFrameRate", "ConstantFrameRate", "NumTemporalLayers",
            "TemporalIDNested", "ColorProfiles", "ColorPrimaries", "TransferCharacteristics",
            "MatrixCoefficients", "VideoFullRangeFlag", "ImageSpatialExtent", "CleanAperture",
            "ImagePixelDepth", "MediaDataSize", "MediaDataOffset", "AV1ConfigurationVersion",
            "ChromaSamplePosition", "Rotation", "ImageRotation", "ImageMirror",
        }
    ),
    "Meta": frozenset({"PrimaryItemReference"}),
    "ICC-header": frozenset(
        {
            "ProfileCMMType", "ProfileVersion", "ProfileClass", "ColorSpaceData", "ProfileConnectionSpace",
            "ProfileDateTime", "ProfileFileSignature", "PrimaryPlatform", "CMMFlags", "DeviceManufacturer",
            "DeviceModel", "DeviceAttributes", "RenderingIntent", "ConnectionSpaceIlluminant",
            "ProfileCreator", "ProfileID",
        }
    ),
    "ICC_Profile": frozenset(
        {
            "ProfileDescription", "ProfileCopyright", "MediaWhitePoint", "MediaBlackPoint",
            "RedMatrixColumn", "GreenMatrixColumn", "BlueMatrixColumn", "RedTRC", "GreenTRC", "BlueTRC",
            "GrayTRC", "ChromaticAdaptation", "AToB0", "AToB1", "AToB2", "BToA0", "BToA1", "BToA2",
            "Gamut", "ColorPrimaries", "TransferCharacteristics", "MatrixCoefficients", "VideoFullRangeFlag",
        }
    ),
}

#: ICC header fields that must be blank in a stripped file (exiftool -n values).
_EXIFTOOL_BLANK = {
    "ProfileCMMType": ("", 0, "0"),
    "ProfileDateTime": ("0000:00:00 00:00:00", "", 0),
    "PrimaryPlatform": ("", 0, "0"),
    "DeviceManufacturer": ("", 0, "0"),
    "DeviceModel": ("", 0, "0"),
    "ProfileCreator": ("", 0, "0"),
    "ProfileID": (0, "0", "", "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"),
}
_GENERIC_ICC_NAMES = set(_KNOWN_RGB) | {"RGB", "Gray", "CMYK", "Lab", "YCbCr", "Colour"}


def exiftool_residue(
    paths: Iterable[str | os.PathLike], *, exiftool: str | None = None, timeout: float | None = None
) -> dict[str, list[str]]:
    """What exiftool still finds in files beyond :data:`EXIFTOOL_ALLOWED`.

    Runs ``exiftool -j -a -G1 -n`` once over all ``paths`` (at most ``timeout``
    seconds; ``subprocess.TimeoutExpired`` past it). Use it on stripped files to
    check them with an independent tool, or on originals to see what they carry.

    Returns
    -------
    dict
        For each path, the unexpected ``Group:Tag`` names (an empty list when
        clean). Identifying ICC header fields count when they are not blank, and
        an ICC description when it is not one of minface's generic names.

    Raises
    ------
    MissingDependencyError
        exiftool is not installed (Debian/Ubuntu: ``apt-get install
        libimage-exiftool-perl``; macOS: ``brew install exiftool``).
    """
    tool = exiftool or shutil.which("exiftool")
    if not tool:
        raise MissingDependencyError(
            "exiftool is not installed (apt-get install libimage-exiftool-perl, or brew install exiftool)"
        )
    files = [os.fspath(p) for p in paths]
    if not files:
        return {}
    proc = subprocess.run(
        [tool, "-j", "-a", "-G1", "-n", "-charset", "filename=utf8", "--", *files],
        capture_output=True,
        check=False,
        timeout=timeout,
    )
    try:
        records = json.loads(proc.stdout.decode("utf-8", "replace") or "[]")
    except json.JSONDecodeError as exc:
        raise MetadataError(f"exiftool output is not JSON: {proc.stderr[:200]!r}") from exc
    result: dict[str, list[str]] = {f: [] for f in files}
    by_name = {os.path.abspath(f): f for f in files}
    for rec in records:
        src = by_name.get(os.path.abspath(rec.get("SourceFile", "")), rec.get("SourceFile", ""))
        bad = result.setdefault(src, [])
        for key, value in rec.items():
            if key == "SourceFile" or ":" not in key:
                continue
            group, tag = key.split(":", 1)
            allowed = EXIFTOOL_ALLOWED.get(group, frozenset())
            if allowed is None:
                continue
            if tag not in allowed:
                bad.append(key)
            elif tag in _EXIFTOOL_BLANK and value not in _EXIFTOOL_BLANK[tag]:
                bad.append(f"{key}={value}")
            elif tag == "ProfileDescription" and value not in _GENERIC_ICC_NAMES:
                bad.append(f"{key}={value}")
            elif tag == "ProfileCopyright" and value not in ("CC0", ""):
                bad.append(f"{key}={value}")
    return result
