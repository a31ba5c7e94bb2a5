"""The portable pattern language of ``matches`` (issue 12): what both engines run alike and in linear time
per start is accepted (and written in the spelling both read the same); anything else is refused with the
reason. Python's ``re``, a backtracking engine like Athena's, stands in for Athena.
"""

from __future__ import annotations

import re
import time

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

from clickport.query.patterns import PatternRejected, portable_pattern

ACCEPTED = [
    ("^/p", "\\A/p"),
    ("a|b", "a|b"),
    ("[0-9]", "[0-9]"),
    ("\\(none\\)", "\\(none\\)"),
    ("Ü", "Ü"),
    ("^$", "\\A\\z"),
    ("e$", "e\\z"),
    ("^/blog/[^/]+$", "\\A/blog/[^/]+\\z"),
    ("\\.pdf$", "\\.pdf\\z"),
    ("^/(en|de)/pricing", "\\A/(?:en|de)/pricing"),
    ("^(www\\.)?example\\.com$", "\\A(?:www\\.)?example\\.com\\z"),
    ("^/blog|^/docs", "\\A/blog|\\A/docs"),
    ("^/blog/.*", "\\A/blog/[^\\n]*"),
    ("a*b", "a*b"),
    ("x{2,5}y", "x{2,5}y"),
    ("a{3}a", "a{3}a"),
    ("[-a]", "[-a]"),
    ("[a-]", "[a-]"),
    ("a(b|c)", "a(?:b|c)"),
    ("(?:ab)?c", "(?:ab)?c"),
    ("'\\)", "'\\)"),
    ("^/thank-you.*$", "\\A/thank-you[^\\n]*\\z"),
]

REJECTED = [
    ("^(a+)+$", "only a single character, '.' or a class may repeat"),
    ("(a*)*", "only a single character, '.' or a class may repeat"),
    ("(?P<n>x)", "no named groups"),
    ("(?<n>x)", "no named groups"),
    ("(?i)pricing", "flags"),
    ("^/(?!admin)", "lookaround"),
    ("(a)\\1", "'\\1' is not portable"),
    ("\\d+", "'\\d' is not portable"),
    ("\\bword", "'\\b' is not portable"),
    ("\\p{L}", "'\\p' is not portable"),
    ("[[:alpha:]]", "'[' inside a class"),
    ("[a&&b]", "'&&' inside a class"),
    ("[a-c-e]", "'-' inside a class"),
    ("[z-a]", "runs backwards"),
    ("[]", "empty class"),
    (".*foo", "'.*' can also match a character that may follow it"),
    ("a*a", "'a*' can also match"),
    ("x{2,5}x", "'x{2,5}' can also match"),
    ("a*b?a", "'a*' can also match"),
    ("(a)?a", "optional group"),
    ("(a?)?", "must not match the empty text"),
    ("(ab|ac)", "alternatives of a group must start with different characters"),
    ("(a|)", "must not match the empty text"),
    ("a**", "a quantifier cannot follow a quantifier"),
    ("a*?", "a quantifier cannot follow a quantifier"),
    ("a++", "a quantifier cannot follow a quantifier"),
    ("*a", "nothing to repeat"),
    ("a{", "repeat count"),
    ("a{1001}", "at most 1000"),
    ("a$b", "'$' may only end"),
    ("(^a)", "'^' may only start"),
    ("a(", "not closed"),
    ("a)", "no '('"),
    ("]", "must be escaped"),
    ("\\", "lone"),
]


@pytest.mark.parametrize("pattern, written", ACCEPTED)
def test_portable_patterns_are_written_as_both_engines_read_them(pattern, written):
    assert portable_pattern(pattern) == written
    re2.compile(written)
    re.compile(_python(written))


@pytest.mark.parametrize("pattern, reason", REJECTED)
def test_patterns_outside_the_language_are_refused_with_the_reason(pattern, reason):
    with pytest.raises(PatternRejected) as refused:
        portable_pattern(pattern)
    assert reason in str(refused.value)


def _python(written: str) -> str:
    """Python's ``re`` (3.11) spells the end of the text ``\\Z``."""
    return written.replace("\\z", "\\Z")


# A small alphabet, so that generated patterns and texts meet often; the line break is in it on purpose.
ALPHABET = "ab/.\n"
ATOMS = st.sampled_from(["a", "b", "/", "\\.", ".", "[ab]", "[^/]", "[^a]", "[a-b]"])
QUANTIFIERS = st.sampled_from(["", "", "?", "*", "+", "{2}", "{1,3}", "{2,}"])


@st.composite
def patterns(draw, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.integers(0, 4)) == 0:
            alternatives = draw(st.lists(patterns(depth=depth + 1), min_size=1, max_size=3))
            parts.append("(" + "|".join(alternatives) + ")" + draw(st.sampled_from(["", "?"])))
        else:
            parts.append(draw(ATOMS) + draw(QUANTIFIERS))
    text = "".join(parts)
    if depth == 0:
        text = draw(st.sampled_from(["", "^"])) + text + draw(st.sampled_from(["", "$"]))
    return text


@settings(max_examples=400, deadline=None)
@given(pattern=patterns(), texts=st.lists(st.text(ALPHABET, max_size=12), min_size=1, max_size=8))
def test_accepted_patterns_match_alike_in_re2_and_a_backtracking_engine(pattern, texts):
    try:
        written = portable_pattern(pattern)
    except PatternRejected:
        return
    compiled_re2, compiled_re = re2.compile(written), re.compile(_python(written))
    for text in texts:
        assert (compiled_re2.search(text) is None) == (compiled_re.search(text) is None), (pattern, written, text)


@settings(max_examples=150, deadline=None)
@given(pattern=patterns(), filler=st.sampled_from(ALPHABET.replace("\n", "")), tail=st.sampled_from(ALPHABET))
def test_accepted_patterns_do_not_backtrack_on_long_values(pattern, filler, tail):
    """2,000 characters (the longest stored value) of one character and a different last one: the
    worst case for a backtracking engine. An accepted pattern answers in well under a second."""
    try:
        written = portable_pattern(pattern)
    except PatternRejected:
        return
    compiled = re.compile(_python(written))
    text = filler * 1999 + tail
    started = time.perf_counter()
    compiled.search(text)
    assert time.perf_counter() - started < 0.5, (pattern, written)
