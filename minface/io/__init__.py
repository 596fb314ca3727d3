"""Pixels in and out of files, below everything else that reads or writes a photo.

* :mod:`minface.io.decode`: any input to an upright ``uint8`` array (format sniffed from the
  bytes, orientation applied, pixel count checked before decoding);
* :mod:`minface.io.encode`: pixel arrays to the bytes of an image file, nothing else;
* :mod:`minface.io.atomic`: a complete new file under its final name, or nothing.

:mod:`minface.images` re-exports their public names. This package imports none of its
modules on its own, so importing one of them loads only what it needs.
"""
