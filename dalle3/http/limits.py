"""What one call may take: how long, and how many bytes.

Both follow from the request rather than from one fixed figure. A 3840x2160
high-quality image takes minutes and its PNG in base64 is tens of megabytes; a
1024² low one takes seconds and a few. A fixed timeout either cuts the long
call after OpenAI has started work it will bill, or waits minutes on a dead
server for the short one; a fixed byte cap either refuses a real 4K answer or
lets a broken proxy make us buffer gigabytes.

Timeouts: the model table's :class:`dalle3.models.GenerationTime` gives the
ordinary upper end of a call; the deadline allows several times that (at
least the ``openai`` SDK's own 600 s default). The read timeout is the longest
silence allowed on the connection: with streaming, the gap between events
(previews arrive every few seconds to a minute); without, the whole wait for
the answer, so it is the deadline. ``DALLE3_TIMEOUT_S`` replaces the read
timeout in both modes; without streaming it is the deadline too, with
streaming the deadline is the larger of it and the computed one.

Bytes: pixels × the most a PNG can spend per pixel (4 bytes RGBA plus one
filter byte a row, and zlib's worst case), × 4/3 for base64, plus room for the
JSON around it — per image, times the images the answer may carry (``n``, and
the partial images of a stream).
"""

from __future__ import annotations

from dataclasses import dataclass

from dalle3.models import ModelProfile, parse_size

SDK_DEFAULT_S = 600.0  # openai-python's DEFAULT_TIMEOUT
DEADLINE_FACTOR = 4.0
MIN_GAP_S = 60.0  # with streaming: no event for this long and the call is given up
FALLBACK_EXPECTED_S = 120.0  # a model with no duration data
CONNECT_S = 10.0
_PNG_BYTES_PER_PIXEL = 4.0 * 1.01  # RGBA, deflate's stored-block worst case ~0.03 % + filter bytes
_ENVELOPE_BYTES = 256 * 1024  # JSON keys, usage, revised prompt (≤ 4000 characters, escaped)


@dataclass(frozen=True)
class CallLimits:
    """Timeouts (seconds) and the byte bound for one call."""

    connect_s: float
    read_s: float  # longest silence on the connection
    deadline_s: float  # the whole call, from send to the last byte
    max_bytes: int  # the whole answer body
    max_image_bytes: int  # one decoded image (a downloaded URL, a partial image)


def pixels(profile: ModelProfile, size: str) -> int:
    """Pixels of ``size``; ``auto`` counts as the model's largest preset."""
    parsed = parse_size(size)
    if parsed is not None:
        return parsed[0] * parsed[1]
    presets = [p for p in map(parse_size, profile.sizes) if p is not None]
    return max((w * h for w, h in presets), default=1536 * 1024)


def expected_s(profile: ModelProfile, quality: str, size: str) -> float:
    """The ordinary upper end of one call, from the model table."""
    if profile.duration is None:
        return FALLBACK_EXPECTED_S
    return profile.duration.expected_s(quality, pixels(profile, size) / 1_000_000)


def for_call(profile: ModelProfile, quality: str, size: str, *, streaming: bool, partial_images: int = 0,
             n: int = 1, timeout_s: float | None = None, connect_s: float = CONNECT_S) -> CallLimits:
    """The limits of one ``POST /images/generations`` (``timeout_s``: DALLE3_TIMEOUT_S, if set)."""
    expected = expected_s(profile, quality, size)
    deadline = max(SDK_DEFAULT_S, DEADLINE_FACTOR * expected)
    read = max(MIN_GAP_S, expected) if streaming else deadline
    if timeout_s is not None:
        read, deadline = timeout_s, max(timeout_s, deadline if streaming else timeout_s)
    image = int(pixels(profile, size) * _PNG_BYTES_PER_PIXEL) + _ENVELOPE_BYTES
    encoded = image * 4 // 3 + _ENVELOPE_BYTES
    images = n * (1 + (partial_images if streaming else 0))
    return CallLimits(connect_s=min(connect_s, read), read_s=read, deadline_s=deadline,
                      max_bytes=encoded * images, max_image_bytes=image)
