"""The redaction of secrets a provider echoes back: every spelling of an API key that a reader
could decode back to it (any case, JSON escapes, percent-encoding, HTML character references,
hex, base64 at every alignment) becomes REDACTED, in bodies and error texts alike, before
anything is stored or printed (`fetching.fetch_all` redacts every envelope it writes)."""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Sequence

REDACTED = "[REDACTED]"


def redactor(secrets: Iterable[str]) -> Callable[[str], str]:
    """A function replacing with REDACTED every spelling of each secret that decodes to it."""
    spellings = [_spellings(secret) for secret in secrets if secret]

    def redact(text: str) -> str:
        for spelling in spellings:
            text = spelling.redact(text)
        return text

    return redact


@functools.lru_cache(maxsize=16)  # a process has a key or two; building one costs ~10 ms
def _spellings(secret: str) -> _Spellings:
    return _Spellings(secret)


class _Spellings:
    """One secret's spellings (see `secret_spellings`), each pattern searched on its own (a
    pattern that starts with a character class is searched fast). A base64 spelling's first
    character, which holds only some of the secret's bits, is matched by looking back from the
    characters that hold only its bits: an optional first class would slow every search."""

    def __init__(self, secret: str):
        self.patterns = [(re.compile(branch), lead) for branch, lead in _branches(secret)]

    def redact(self, text: str) -> str:
        for pattern, lead in self.patterns:
            parts: list[str] = []
            last = 0
            for match in pattern.finditer(text):
                start = match.start()
                if start > last and text[start - 1] in lead:
                    start -= 1
                parts += (text[last:start], REDACTED)
                last = match.end()
            if parts:
                text = "".join(parts) + text[last:]
        return text


def secret_spellings(secret: str) -> re.Pattern[str]:
    """Every spelling of `secret` a reader could decode back to it, in any case of its letters
    (the key echoed case-folded): each character written literally, as a JSON escape
    (`\\u0053`), percent-encoded (`%53`) or as an HTML character reference (`&#83;`, `&#x53;`,
    the `;` optional where the next character cannot extend the number), in any mix; its bytes
    in hex; and its bytes in base64, standard or URL-safe, at each of the three alignments it can
    have inside a longer payload (the characters that hold only some of its bits included).
    Hex digits are matched in either case. No spelling needs `+` for a space: the characters
    are matched one by one, and `+` stands only for a space, which no key holds."""
    return re.compile(
        "|".join(
            f"(?:[{re.escape(lead)}]?{branch})" if lead else f"(?:{branch})"
            for branch, lead in _branches(secret)
        )
    )


def _branches(secret: str) -> list[tuple[str, str]]:
    """Each family's pattern, with the characters that may precede it as part of the spelling
    (a base64 spelling's partial first character; as a pattern, `[...]?`, in `secret_spellings`)."""
    variants = [_case_variants(byte) for byte in secret.encode("utf-8", "surrogatepass")]
    return [
        ("".join(_char_spellings(char) for char in secret), ""),
        ("".join(_hex_spelling(v) for v in variants), ""),
        *(_base64_spelling(variants, align) for align in range(3)),
    ]


def _hex_spelling(cases: frozenset[int]) -> str:
    """A byte's cases in hex, digits in either case, as two classes (a pattern that starts with
    a class is searched fast): the cases differ in the high digit only."""
    highs = "".join(sorted({f"{byte >> 4:x}" for byte in cases}))
    (low,) = {f"{byte & 0xF:x}" for byte in cases}
    return f"[{highs}]" + _hex(low)


def _case_variants(byte: int) -> frozenset[int]:
    """The byte, and its other case if it is an ASCII letter."""
    letter = 0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A
    return frozenset({byte, byte ^ 0x20} if letter else {byte})


def _char_spellings(char: str) -> str:
    cases = dict.fromkeys(c for c in (char, char.lower(), char.upper()) if len(c) == 1)
    return "(?:" + "|".join(form for case in cases for form in _forms(case)) + ")"


def _forms(char: str) -> list[str]:
    code = ord(char)
    units = [code] if code <= 0xFFFF else [0xD800 + ((code - 0x10000) >> 10),
                                           0xDC00 + ((code - 0x10000) & 0x3FF)]  # fmt: skip
    return [
        re.escape(char),
        "".join(r"\\u" + _hex(f"{unit:04x}") for unit in units),
        "".join("%" + _hex(f"{byte:02x}") for byte in char.encode("utf-8", "surrogatepass")),
        f"&#0*{code}(?:;|(?![0-9]))",
        "&#[xX]0*" + _hex(f"{code:x}") + "(?:;|(?![0-9A-Fa-f]))",
    ]


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_BASE64_62, _BASE64_63 = "+-", "/_"  # standard, URL-safe


def _base64_spelling(variants: Sequence[frozenset[int]], align: int) -> tuple[str, str]:
    """The base64 characters that carry these bytes' bits when they start `align` bytes into a
    3-byte group: each a class of the characters whose bits agree with some case of the bytes,
    the partial last one optional (the payload may end with the secret); and the characters the
    partial first one may be (none at alignment 0)."""
    first_bit, end_bit = 8 * align, 8 * (align + len(variants))
    parts, lead = [], ""
    for index in range(first_bit // 6, -(-end_bit // 6)):
        bits = range(6 * index, 6 * index + 6)
        chars = "".join(_base64_chars(v) for v in sorted(_digit_values(variants, bits, first_bit)))
        if bits.start < first_bit:
            lead = chars
        else:
            parts.append(f"[{re.escape(chars)}]" + ("?" if bits.stop > end_bit else ""))
    return "".join(parts), lead


def _digit_values(variants: Sequence[frozenset[int]], bits: range, first_bit: int) -> set[int]:
    """The values of a base64 digit covering stream `bits` that agree with some case of each
    byte it touches; its bits outside the bytes take any value."""
    inside = [(5 - offset, bit - first_bit) for offset, bit in enumerate(bits)
              if 0 <= bit - first_bit < 8 * len(variants)]  # fmt: skip
    free = [5 - offset for offset in range(6) if 5 - offset not in {s for s, _ in inside}]
    touched = sorted({position // 8 for _, position in inside})
    values = set()
    for cases in itertools.product(*(variants[index] for index in touched)):
        byte = dict(zip(touched, cases, strict=True))
        fixed = sum(((byte[p // 8] >> (7 - p % 8)) & 1) << shift for shift, p in inside)
        for mask in range(1 << len(free)):
            values.add(fixed | sum(((mask >> j) & 1) << shift for j, shift in enumerate(free)))
    return values


def _base64_chars(value: int) -> str:
    return _BASE64[value] if value < 62 else (_BASE64_62, _BASE64_63)[value - 62]


def _hex(digits: str) -> str:
    """A regex matching these hex digits in either case."""
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)
