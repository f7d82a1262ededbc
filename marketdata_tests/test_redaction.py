"""The API key's redaction (`providers.redaction.redactor`): every spelling of a key that decodes
to it — plain, percent-encoded, JSON-escaped, HTML numeric with or without `;`, hex, base64 at
each alignment, in any case — is redacted; a body without the key is left exactly as is."""

from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from marketdata_assets.providers.redaction import REDACTED, redactor
from marketdata_tests.spellings import CASES, FAMILIES, reveals

pytestmark = pytest.mark.domain

PAYLOADS = Path(__file__).with_name("payloads")
BODIES = [
    (PAYLOADS / name).read_text()
    for name in ("alphavantage_global_quote_IBM.json", "yahoo_chart_AAPL.json")
]
PROPERTY = settings(max_examples=300, deadline=None)
keys = st.from_regex(r"[A-Za-z0-9]{8,40}", fullmatch=True)  # Alpha Vantage keys' shape
# Text around a spelling that cannot extend it: no digits (an HTML reference without `;` would
# read them), no letters (a hex one, a base64 payload), no `%` or `\`.
around = st.text(alphabet=' :.,"{}[]=&#', max_size=8)


@st.composite
def spelled(draw: st.DrawFn) -> tuple[str, str]:
    """A key, and a spelling of it (a family, a case) inside a longer text."""
    key = draw(keys)
    spell = FAMILIES[draw(st.sampled_from(sorted(FAMILIES)))]
    case = CASES[draw(st.sampled_from(sorted(CASES)))]
    before, after = draw(st.binary(max_size=12)), draw(st.binary(max_size=12))
    return key, spell(case(key), before, after)


@PROPERTY
@given(spelled(), around, around, st.sampled_from(BODIES))
def test_no_spelling_of_the_key_survives_redaction(
    key_and_spelling: tuple[str, str], left: str, right: str, body: str
) -> None:
    key, spelling = key_and_spelling
    # The first echo ends in a space: the body's own next character (the `c` of `"chart"`) would
    # extend an HTML reference without `;` (`&#X30c` is U+030C): it would no longer spell the key.
    echoed = body.replace('"', '"' + left + spelling + right + " ", 1) + left + spelling
    assert reveals(echoed, key)  # the spelling decodes to the key, as echoed
    redacted = redactor([key])(echoed)
    assert redacted.count(REDACTED) >= 2
    assert not reveals(redacted, key)


@PROPERTY
@given(keys, keys, st.sampled_from(sorted(FAMILIES)), st.text(max_size=40))
def test_a_body_without_the_key_is_unchanged(key: str, other: str, family: str, noise: str) -> None:
    """Bodies echoing another key, in any spelling, and arbitrary text are left as received."""
    for body in BODIES:
        echoed = body + noise + FAMILIES[family](other, noise.encode()[:7], b"") + noise
        assume(not reveals(echoed, key))
        assert redactor([key])(echoed) == echoed


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_each_family_and_case_is_redacted(family: str, case: str) -> None:
    key = "K3YS3CR3T0000042"
    spelling = FAMILIES[family](CASES[case](key), b"before the key", b"after the key")
    redacted = redactor([key])(f'{{"Information": "{spelling}"}}')
    assert REDACTED in redacted and not reveals(redacted, key)
