"""Spellings of a secret a body may echo, and the decodings that would reveal it: the families
the redaction covers (see `providers.redaction.secret_spellings`), for its tests."""

import base64
import binascii
import contextlib
import html
import re
from collections.abc import Callable, Iterator
from urllib.parse import unquote, unquote_plus


def _base64(encode: Callable[[bytes], bytes], align: int) -> Callable[[str, bytes, bytes], str]:
    """The key's bytes `align` bytes into a 3-byte group of a longer base64 payload."""

    def spell(key: str, before: bytes, after: bytes) -> str:
        prefix = before[: len(before) - len(before) % 3] + b"#" * align
        return encode(prefix + key.encode() + after).decode()

    return spell


def _each(form: Callable[[str], str]) -> Callable[[str, bytes, bytes], str]:
    return lambda key, _before, _after: "".join(form(c) for c in key)


# name -> spell(key, bytes before, bytes after): the families and their variants.
FAMILIES: dict[str, Callable[[str, bytes, bytes], str]] = {
    "plain": _each(lambda c: c),
    "percent-upper": _each(lambda c: f"%{ord(c):02X}"),
    "percent-lower": _each(lambda c: f"%{ord(c):02x}"),
    "json-upper": _each(lambda c: f"\\u{ord(c):04X}"),
    "json-lower": _each(lambda c: f"\\u{ord(c):04x}"),
    "html-decimal": _each(lambda c: f"&#{ord(c)};"),
    "html-decimal-no-semicolon": _each(lambda c: f"&#{ord(c)}"),
    "html-hex": _each(lambda c: f"&#x{ord(c):x};"),
    "html-hex-no-semicolon": _each(lambda c: f"&#X{ord(c):X}"),
    "hex-lower": lambda key, _b, _a: key.encode().hex(),
    "hex-upper": lambda key, _b, _a: key.encode().hex().upper(),
    **{f"base64-{a}": _base64(base64.b64encode, a) for a in range(3)},
    **{f"base64url-{a}": _base64(base64.urlsafe_b64encode, a) for a in range(3)},
}
CASES: dict[str, Callable[[str], str]] = {
    "as-is": str,
    "lower": str.lower,
    "upper": str.upper,
    "swapcase": str.swapcase,
}

_JSON_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_HEX_RUN = re.compile(r"[0-9A-Fa-f]{2,}")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{2,}")


def decodings(text: str) -> Iterator[str]:
    """The text as each family would decode it (and in mixes of the per-character ones)."""
    unjson = _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)
    yield from (text, unjson, unquote(text), unquote_plus(text), html.unescape(text))
    yield html.unescape(unquote(unjson))
    for run in _HEX_RUN.findall(text):
        for start in (0, 1):
            digits = run[start:]
            yield bytes.fromhex(digits[: len(digits) - len(digits) % 2]).decode("latin-1")
    for run in _BASE64_RUN.findall(text):
        standard = run.translate(str.maketrans("-_", "+/"))
        for start in range(4):
            chunk = standard[start:]
            chunk = chunk[: len(chunk) - 1] if len(chunk) % 4 == 1 else chunk
            # The last partial group too: its bits hold the end of what it spells.
            with contextlib.suppress(binascii.Error):
                yield base64.b64decode(chunk + "=" * (-len(chunk) % 4)).decode("latin-1")


def reveals(text: str, key: str) -> bool:
    """Whether any decoding of `text` holds the key, in any case."""
    return any(key.lower() in decoded.lower() for decoded in decodings(text))
