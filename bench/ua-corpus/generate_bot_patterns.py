"""Writes ``clickport/ingest/bot_patterns.py`` from the pinned bot lists; run after changing a pin.

    .venv/bin/python bench/ua-corpus/generate_bot_patterns.py          # rewrite the module
    .venv/bin/python bench/ua-corpus/generate_bot_patterns.py --check  # exit 1 if it is out of date

- Matomo Device Detector's ``bots.yml``: from the installed ``device_detector`` package (pinned in
  pyproject.toml's ``dev`` extra), each entry's ``regex``.
- isbot's pattern list: ``require("isbot").list`` of the npm package pinned in ``bench/ua-corpus/package.json``
  (``npm install`` there first; ``make setup`` does).

The filter compiles every pattern into one RE2 expression (linear time on any input). RE2 has no
look-around; of a pattern that RE2 rejects, the alternatives (at any depth) that use look-around are
dropped and the rest is kept (see ``prune``); the dropped ones are recorded in ``SKIPPED``, never rewritten
by hand. Capturing groups become
non-capturing (the filter needs no submatches); nothing else about a pattern changes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path
from typing import Iterator

import re2
import yaml_rs

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "layers" / "common" / "python" / "clickport" / "ingest" / "bot_patterns.py"
NPM_DIR = Path(__file__).resolve().parent
# Constant in the generated module → Device Detector's list: its bots, and the browsers, apps and HTTP
# libraries it knows (the filter uses the latter to recognise a browser, and libraries as bots).
DEVICE_DETECTOR_LISTS = {
    "DEVICE_DETECTOR_BOTS": "bots.yml",
    "DEVICE_DETECTOR_BROWSERS": "client/browsers.yml",
    "DEVICE_DETECTOR_APPS": "client/mobile_apps.yml",
    "DEVICE_DETECTOR_LIBRARIES": "client/libraries.yml",
}


def syntax_positions(pattern: str) -> Iterator[int]:
    """The indices of a pattern's characters that are regex syntax: neither escaped nor inside a class."""
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # "[]...]": a literal "]" first
                i += 1
        else:
            yield i
        i += 1


def split_top_level(pattern: str) -> list[str]:
    """The branches of a pattern's top-level alternation (``a|b(c|d)`` → ``a``, ``b(c|d)``)."""
    branches, depth, start = [], 0, 0
    for i in syntax_positions(pattern):
        char = pattern[i]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:i])
            start = i + 1
    branches.append(pattern[start:])
    return branches


def without_captures(pattern: str) -> str:
    """The pattern with every capturing group made non-capturing (``(x)`` → ``(?:x)``).

    The filter asks only whether a pattern matches and where; without groups RE2 answers from its DFA
    instead of tracking submatches (measured: ~5x faster on the browser list). RE2 has no backreferences,
    so no pattern that RE2 accepts refers to a group.
    """
    out, last = [], 0
    for i in syntax_positions(pattern):
        if pattern[i] == "(" and pattern[i + 1 : i + 2] != "?":
            out += [pattern[last : i + 1], "?:"]
            last = i + 1
    out.append(pattern[last:])
    return "".join(out)


def _re2_accepts(pattern: str, flags: str) -> bool:
    options = re2.Options()
    options.log_errors = False
    try:
        re2.compile(f"(?{flags}:{pattern})" if flags else pattern, options)
    except re2.error:
        return False
    return True


LOOK_AROUND = ("(?=", "(?!", "(?<=", "(?<!")


def top_level_groups(branch: str) -> list[tuple[int, int, int]]:
    """(start, content start, end) of each outermost group of a branch: ``branch[start] == "("``,
    ``branch[end] == ")"``, and the content begins after the group's ``(?:``/``(?i:`` prefix."""
    groups, depth, start = [], 0, 0
    for i in syntax_positions(branch):
        char = branch[i]
        if char == "(":
            if depth == 0:
                start = i
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                content = start + 1
                if branch[content : content + 1] == "?":
                    colon = branch.find(":", content)
                    content = colon + 1 if 0 <= colon < i else i  # "(?i)": a flag, no content
                groups.append((start, content, i))
    return groups


def prune(pattern: str, flags: str) -> tuple[str | None, list[str]]:
    """The pattern without the alternatives that RE2 rejects, at any depth; (None, …) if none is left.

    ``a|(?<!x)b`` → ``a``; ``w*(?:(?<!cu)bot|monitor|probe)\\b`` → ``w*(?:monitor|probe)\\b``. A branch whose
    look-around is not inside an alternation is dropped whole. Dropping alternatives only narrows what a
    pattern matches, so the result matches a subset of what the list's authors wrote: never more.
    Returns the pruned pattern and the dropped alternatives.
    """
    if _re2_accepts(pattern, flags):
        return pattern, []
    kept: list[str] = []
    dropped: list[str] = []
    for branch in split_top_level(pattern):
        if _re2_accepts(branch, flags):
            kept.append(branch)
            continue
        rebuilt, inner_dropped, last = [], [], 0
        for start, content, end in top_level_groups(branch):
            if branch.startswith(LOOK_AROUND, start):
                rebuilt = None
                break
            inner, lost = prune(branch[content:end], flags) if content < end else (branch[content:end], [])
            if inner is None:
                rebuilt = None
                break
            rebuilt.append(branch[last:content] + inner)
            inner_dropped += lost
            last = end
        if rebuilt is not None:
            candidate = "".join(rebuilt) + branch[last:]
            if _re2_accepts(candidate, flags):
                kept.append(candidate)
                dropped += inner_dropped
                continue
        dropped.append(branch)
    return ("|".join(kept) if kept else None), dropped


def keep_linear(patterns: list[str], flags: str, source: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Each pattern as RE2 accepts it: pruned of its look-around alternatives. Returns (kept, skipped)."""
    kept: list[str] = []
    skipped: list[tuple[str, str, str]] = []
    for pattern in map(without_captures, patterns):
        pruned, dropped = prune(pattern, flags)
        if pruned is not None:
            kept.append(pruned)
        skipped += [(source, branch, "look-around (RE2 has none)") for branch in dropped]
    return kept, skipped


def device_detector_regexes(name: str) -> list[str]:
    """The ``regex`` of every entry of one of Device Detector's lists (``bots.yml``, ``client/browsers.yml``, …)."""
    text = (resources.files("device_detector") / "regexes" / "upstream" / name).read_text(encoding="utf-8")
    return [entry["regex"] for entry in yaml_rs.loads(text)]


def isbot_patterns() -> tuple[str, list[str]]:
    package = NPM_DIR / "node_modules" / "isbot"
    if not package.is_dir():
        sys.exit(f"{package} is missing: run `npm install` in {NPM_DIR} (make setup does)")
    version = json.loads((package / "package.json").read_text())["version"]
    script = "process.stdout.write(JSON.stringify(require(process.argv[1]).list))"
    listed = subprocess.run(["node", "-e", script, str(package)], capture_output=True, text=True, check=True)
    return version, json.loads(listed.stdout)


def render() -> str:
    dd_version = metadata.version("device_detector")
    isbot_version, isbot_all = isbot_patterns()
    lists = {name: device_detector_regexes(name) for name in DEVICE_DETECTOR_LISTS.values()}
    kept: dict[str, list[str]] = {}
    skipped: list[tuple[str, str, str]] = []
    for name, patterns in lists.items():
        kept[name], dropped = keep_linear(patterns, "i", f"device_detector {name}")
        skipped += dropped
    isbot_kept, isbot_skipped = keep_linear(isbot_all, "i", "isbot")

    def block(name: str, items: list[str]) -> str:
        return f"{name}: tuple[str, ...] = (\n" + "".join(f"    {item!r},\n" for item in items) + ")\n"

    skipped_block = "SKIPPED: tuple[tuple[str, str, str], ...] = (\n" + "".join(
        f"    {entry!r},\n" for entry in skipped + isbot_skipped
    ) + ")\n"
    dd_blocks = "".join(
        f"\n# {len(kept[name])} of {len(lists[name])} entries of {name} (look-around branches dropped: see SKIPPED)\n"
        + block(constant, kept[name])
        for constant, name in DEVICE_DETECTOR_LISTS.items()
    )
    return (
        '"""Bot patterns of Matomo Device Detector and isbot, generated from their pinned versions. Do not edit.\n\n'
        "Generated by bench/ua-corpus/generate_bot_patterns.py (see there for sources and how to update).\n"
        "Sources and licences: Matomo Device Detector's regexes (LGPL-3.0, via the device_detector package),\n"
        "isbot's pattern list (Unlicense); see bench/ua-corpus/README.md.\n"
        "Every pattern is matched case-insensitively; Device Detector's only after the start of the string or a\n"
        "character that is no letter, digit, '_' or '-', as Device Detector itself does.\n"
        '"""\n\n'
        "# fmt: off\n"
        f"DEVICE_DETECTOR_VERSION = {dd_version!r}\n"
        f"ISBOT_VERSION = {isbot_version!r}\n"
        + dd_blocks
        + f"\n# {len(isbot_kept)} of {len(isbot_all)} patterns of isbot's list\n"
        + block("ISBOT_PATTERNS", isbot_kept)
        + "\n# (list, pattern, why) for each pattern or top-level branch left out of the RE2 expression\n"
        + skipped_block
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the module differs from the pinned lists")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is out of date: run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
