"""Just enough image sniffing to answer sendPhoto like Telegram: sizes for PNG, GIF and JPEG."""

from __future__ import annotations

import struct

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_size(content: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG, GIF or JPEG image, or None when it is not one."""
    if content.startswith(_PNG_SIGNATURE) and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return width, height
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return width, height
    if content.startswith(b"\xff\xd8"):
        return _jpeg_size(content)
    return None


def _jpeg_size(content: bytes) -> tuple[int, int] | None:
    position = 2
    while position + 9 <= len(content):
        if content[position] != 0xFF:
            return None
        marker = content[position + 1]
        (segment_length,) = struct.unpack(">H", content[position + 2 : position + 4])
        if marker in _JPEG_FRAME_MARKERS:
            height, width = struct.unpack(">HH", content[position + 5 : position + 9])
            return width, height
        position += 2 + segment_length
    return None
