"""Bodies as a reader wants them: Content-Encoding undone, within a bound (a small
compressed body can claim gigabytes), and cut to a preview."""

import zlib

import brotli


class DecodeError(ValueError):
    """A body its Content-Encoding does not describe; the message says why."""


def inflate(body, wbits, limit):
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as problem:
        kind = "gzip" if wbits > zlib.MAX_WBITS else "deflate"
        raise DecodeError(f"not {kind} data ({problem})") from None
    return out


def unbrotli(body, limit):
    try:
        return brotli.Decompressor().process(body, output_buffer_limit=limit + 1)
    except brotli.error as problem:
        raise DecodeError(f"not brotli data ({problem})") from None


def decode(body, encoding, limit):
    """`body` with its Content-Encoding (gzip, deflate or br) undone: (bytes, cut),
    at most `limit` bytes of it; None for an encoding we do not undo."""
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        out = inflate(body, 16 + zlib.MAX_WBITS, limit)
    elif encoding == "deflate":
        # RFC 9110's deflate is zlib-wrapped; some senders send it raw.
        try:
            out = inflate(body, zlib.MAX_WBITS, limit)
        except DecodeError:
            out = inflate(body, -zlib.MAX_WBITS, limit)
    elif encoding == "br":
        out = unbrotli(body, limit)
    else:
        return None
    return out[:limit], len(out) > limit
