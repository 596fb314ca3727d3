"""Defaults shared by light and heavy modules (no imports: the planning process reads them too)."""

#: Pillow's own hard limit (twice ``PIL.Image.MAX_IMAGE_PIXELS``): about 179 megapixels,
#: above any phone or consumer camera.
DEFAULT_MAX_PIXELS = 2 * 89_478_485

#: Growth of a face box on each side, as a fraction of its width and height, before painting.
DEFAULT_PAD = 0.3

#: Largest video frame (pixels, after rotation) scrubbed unless raised: 8K UHD (7680x4320) fits, 16K does not.
DEFAULT_MAX_VIDEO_PIXELS = 8192 * 4352

#: Longest video (seconds) scrubbed unless raised: four hours.
DEFAULT_MAX_VIDEO_SECONDS = 4 * 3600.0

#: Smallest face searched in videos unless ``min_face`` is given (photos: the preset's, 8 px for balanced).
#: Every frame of a video costs a search, and tracking carries a face found in nearby frames;
#: 12 px keeps ``balanced`` at about 1.9 times deface's speed with higher recall (README, Videos).
DEFAULT_VIDEO_MIN_FACE = 12.0
