"""The portable pattern language of ``matches`` / ``not_matches``: the subset of regular expressions that
DuckDB (RE2) and Athena (a backtracking engine, Joni) run the same way, and in linear time per start.

A pattern is checked here and written in the spelling both engines read alike; anything else is a 400
with the reason:

- literal characters; ``\\`` before one of ``\\ ^ $ . | ? * + ( ) [ ] { } / - &`` makes it literal
  (other escapes such as ``\\d``, ``\\b``, ``\\p{…}`` mean different things in the two engines);
- ``.`` (any character but a line break), classes ``[abc]``, ``[a-z]``, ``[^/]`` (no nested ``[``, no
  ``&&``);
- ``?``, ``*``, ``+``, ``{n}``, ``{n,}``, ``{n,m}`` (m ≤ 1000) after a character, ``.`` or class; a group
  may only be optional (``?``); no lazy or possessive forms;
- groups ``( … )`` and ``(?: … )`` with alternatives ``|`` (no named groups, flags, lookaround or
  backreferences);
- ``^`` only at the start and ``$`` only at the end of the pattern or of a top-level alternative
  (written ``\\A`` and ``\\z``: Athena's ``$`` also matches before a final line break).

So that a backtracking engine never has a choice to undo beyond one character, a repeated or optional
part must not be able to match the character that can follow it (``a*a``, ``.*x``, ``(a+)+`` are
refused; ``[^/]*/``, ``x.*`` are fine), and the alternatives of a group must start with different
characters and not match the empty text (``(ab|ac)`` is refused; write ``a(b|c)``). The alternatives of
the pattern itself may overlap (``^/blog|^/docs``): nothing follows them. Each try at a start position
is then linear in the value; an unanchored search tries every start, so a whole value costs at most its
length squared (stored values are at most 2,000 characters), never the exponential time of ``(a+)+``.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_REPEAT = 1000
_MAX_CHAR = 0x10FFFF
_META = set("\\^$.|?*+()[]{}")
_ESCAPABLE = _META | set("/-&")
_QUANTIFIERS = set("?*+{")

Ranges = tuple[tuple[int, int], ...]  # sorted, merged, inclusive code point ranges


def _merge(ranges) -> Ranges:
    out: list[list[int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], high)
        else:
            out.append([low, high])
    return tuple((a, b) for a, b in out)


def _complement(ranges: Ranges) -> Ranges:
    out, start = [], 0
    for low, high in ranges:
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= _MAX_CHAR:
        out.append((start, _MAX_CHAR))
    return tuple(out)


def _overlap(a: Ranges, b: Ranges) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][1] < b[j][0]:
            i += 1
        elif b[j][1] < a[i][0]:
            j += 1
        else:
            return True
    return False


_NEWLINE = ord("\n")
_DOT: Ranges = _complement(((_NEWLINE, _NEWLINE),))


class PatternRejected(ValueError):
    """The pattern is outside the portable language; the message says why."""


@dataclass
class _Item:
    """One element of a sequence: what its first character may be, whether it may match nothing."""

    text: str  # as the pattern wrote it (for messages)
    first: Ranges
    nullable: bool
    chars: Ranges = ()  # a repeated or optional single-character item: the characters it repeats
    varies: bool = False  # its length can vary (a choice a backtracking engine may have to undo)
    group: "_Alternation | None" = None


@dataclass
class _Alternation:
    alternatives: list[list[_Item]]
    first: Ranges
    nullable: bool


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.out: list[str] = []

    def fail(self, reason: str) -> None:
        raise PatternRejected(reason)

    def peek(self) -> str | None:
        return self.text[self.at] if self.at < len(self.text) else None

    def take(self) -> str:
        char = self.text[self.at]
        self.at += 1
        return char

    # --- grammar: alternation := sequence ('|' sequence)* ---------------------------------------------

    def alternation(self, top: bool) -> _Alternation:
        alternatives = [self.sequence(top)]
        while self.peek() == "|":
            self.take()
            self.out.append("|")
            alternatives.append(self.sequence(top))
        firsts: list[Ranges] = [_sequence_first(a)[0] for a in alternatives]
        nullable = any(_sequence_first(a)[1] for a in alternatives)
        if not top and len(alternatives) > 1:
            for alternative in alternatives:
                if _sequence_first(alternative)[1]:
                    self.fail("an alternative inside a group must not match the empty text")
            for i in range(len(firsts)):
                for j in range(i + 1, len(firsts)):
                    if _overlap(firsts[i], firsts[j]):
                        self.fail("the alternatives of a group must start with different characters "
                                  "(write 'a(b|c)' for '(ab|ac)')")
        return _Alternation(alternatives, _merge(r for f in firsts for r in f), nullable)

    def sequence(self, top: bool) -> list[_Item]:
        items: list[_Item] = []
        start = True
        while True:
            char = self.peek()
            if char is None or char == "|" or char == ")":
                return items
            if char == "^":
                if not (top and start):
                    self.fail("'^' may only start the pattern or one of its alternatives")
                self.take()
                self.out.append("\\A")
                start = False
                continue
            if char == "$":
                self.take()
                if not top or self.peek() not in (None, "|"):
                    self.fail("'$' may only end the pattern or one of its alternatives")
                self.out.append("\\z")
                continue
            start = False
            items.append(self.item())

    def item(self) -> _Item:
        begin = self.at
        char = self.take()
        group = None
        if char in "*+?{":
            self.fail(f"'{char}' has nothing to repeat (escape it as '\\{char}')")
        if char == "(":
            if self.peek() == "?":
                if self.text.startswith("?:", self.at):
                    self.at += 2
                else:
                    self.fail("only '( … )' and '(?: … )' groups are portable (no named groups, flags, "
                              "lookaround or backreferences)")
            self.out.append("(?:")
            group = self.alternation(top=False)
            if self.peek() != ")":
                self.fail("a '(' is not closed")
            self.take()
            self.out.append(")")
            item = _Item(self.text[begin:self.at], group.first, group.nullable, group=group)
        elif char == ")":
            self.fail("a ')' has no '('")
        elif char == "[":
            chars = self.char_class()
            item = _Item(self.text[begin:self.at], chars, False, chars=chars)
        elif char == ".":
            self.out.append("[^\\n]")
            item = _Item(".", _DOT, False, chars=_DOT)
        elif char == "\\":
            literal = self.escape()
            self.out.append("\\" + literal)
            item = _Item(self.text[begin:self.at], ((ord(literal),) * 2,), False, chars=((ord(literal),) * 2,))
        elif char in "]}":
            self.fail(f"a '{char}' must be escaped as '\\{char}'")
        else:
            self.out.append(char)
            item = _Item(char, ((ord(char),) * 2,), False, chars=((ord(char),) * 2,))
        return self.quantified(item)

    def quantified(self, item: _Item) -> _Item:
        char = self.peek()
        if char is None or char not in _QUANTIFIERS:
            return item
        begin = self.at
        self.take()
        low, high = {"?": (0, 1), "*": (0, None), "+": (1, None)}.get(char, (None, None))
        if char == "{":
            low, high = self.braces()
        written = self.text[begin:self.at]
        if self.peek() is not None and self.peek() in _QUANTIFIERS:
            self.fail(f"'{written}{self.peek()}': a quantifier cannot follow a quantifier (no lazy or possessive "
                      "forms)")
        if item.group is not None and (low, high) != (0, 1):
            self.fail(f"'{item.text}{written}': only a single character, '.' or a class may repeat; "
                      "a group may only be optional ('?')")
        if item.group is not None and item.nullable:
            self.fail(f"'{item.text}{written}': an optional group must not match the empty text by itself")
        self.out.append(written)
        item.text += written
        item.nullable = item.nullable or low == 0
        item.varies = low != high
        return item

    def braces(self) -> tuple[int, int | None]:
        end = self.text.find("}", self.at)
        body = self.text[self.at:end] if end >= 0 else ""
        low_text, comma, high_text = body.partition(",")
        if end < 0 or not low_text.isdigit() or not (high_text == "" or high_text.isdigit()) or not low_text.isascii():
            self.fail("'{' must start a repeat count such as '{2}', '{2,}' or '{2,5}' (escape a literal '{' as '\\{')")
        low = int(low_text)
        high = None if comma and not high_text else int(high_text) if comma else low
        if low > MAX_REPEAT or (high is not None and (high > MAX_REPEAT or high < low)):
            self.fail(f"a repeat count must be at most {MAX_REPEAT}, the second not below the first")
        self.at = end + 1
        return low, high

    def escape(self) -> str:
        char = self.peek()
        if char is None:
            self.fail("the pattern ends with a lone '\\'")
        if char not in _ESCAPABLE:
            self.fail(f"'\\{char}' is not portable: escape only the special characters "
                      f"{' '.join(sorted(_ESCAPABLE))}")
        return self.take()

    def char_class(self) -> Ranges:
        negated = self.peek() == "^"
        parts = ["[^" if negated else "["]
        if negated:
            self.take()
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            char = self.peek()
            if char is None:
                self.fail("a '[' is not closed")
            if char == "]":
                if first:
                    self.fail("an empty class (escape a literal ']' as '\\]')")
                self.take()
                break
            if char == "-" and not first and self.text[self.at + 1:self.at + 2] != "]":
                self.fail("a '-' inside a class that does not form a range must come first or last, "
                          "or be escaped as '\\-'")
            first = False
            low = self.class_char(parts)
            if self.peek() == "-" and self.at + 1 < len(self.text) and self.text[self.at + 1] != "]":
                self.take()
                parts.append("-")
                high = self.class_char(parts)
                if high < low:
                    self.fail(f"the range '{chr(low)}-{chr(high)}' runs backwards")
                ranges.append((low, high))
            else:
                ranges.append((low, low))
        parts.append("]")
        self.out.append("".join(parts))
        merged = _merge(ranges)
        return _complement(merged) if negated else merged

    def class_char(self, parts: list[str]) -> int:
        char = self.take()
        if char == "\\":
            literal = self.escape()
            parts.append("\\" + literal)
            return ord(literal)
        if char == "[":
            self.fail("a '[' inside a class must be escaped as '\\['")
        if char == "&" and self.peek() == "&":
            self.fail("'&&' inside a class is not portable (escape it as '\\&\\&')")
        parts.append(char)
        return ord(char)


def _sequence_first(items: list[_Item]) -> tuple[Ranges, bool]:
    """The characters a sequence can start with, and whether it can match the empty text."""
    first: list[tuple[int, int]] = []
    for item in items:
        first.extend(item.first)
        if not item.nullable:
            return _merge(first), False
    return _merge(first), True


def _check_choices(items: list[_Item], follow: Ranges) -> None:
    """Refuse a part whose length varies while it can match a character that may follow it."""
    for index, item in enumerate(items):
        rest_first, rest_nullable = _sequence_first(items[index + 1:])
        after = _merge(rest_first + (follow if rest_nullable else ()))
        if item.group is not None:
            for alternative in item.group.alternatives:
                _check_choices(alternative, after)
            if item.varies and _overlap(item.first, after):
                raise PatternRejected(f"the optional group '{item.text}' can start with a character that may "
                                      "also follow it, so a backtracking engine could have to undo it")
        elif item.varies and _overlap(item.chars, after):
            raise PatternRejected(f"'{item.text}' can also match a character that may follow it (as in 'a*a' or "
                                  "'.*x'), so a backtracking engine could take polynomial or exponential time; "
                                  "use a class that excludes what follows, such as '[^/]*/'")


def portable_pattern(pattern: str) -> str:
    """The pattern as both engines should be given it (``^`` → ``\\A``, ``$`` → ``\\z``, ``.`` → ``[^\\n]``,
    groups non-capturing); ``PatternRejected`` with the reason when it is outside the portable language."""
    parser = _Parser(pattern)
    top = parser.alternation(top=True)
    if parser.peek() is not None:  # a ')' without '('
        parser.fail("a ')' has no '('")
    for alternative in top.alternatives:
        _check_choices(alternative, ())
    return "".join(parser.out)
