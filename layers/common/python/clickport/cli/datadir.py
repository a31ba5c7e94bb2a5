"""Where the local data lives, said the same way in ``--help`` and the banner; and moving a checkout's old
``.clickport/`` there once (``make dev``).

``python -m clickport.cli.datadir adopt PATH`` is what ``make dev`` runs before the server.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from clickport.settings import Settings

ENV = "CLICKPORT_DATA_DIR"
DEFAULT_RULE = "$XDG_DATA_HOME/clickport, else ~/.local/share/clickport"


def located(settings: Settings) -> tuple[Path, bool]:
    """The settings' data directory made absolute, and whether ``CLICKPORT_DATA_DIR`` chose it."""
    return Path(os.path.abspath(settings.data_dir)), bool(os.environ.get(ENV))


def describe(path: Path, from_env: bool) -> str:
    """Where the path comes from: ``from CLICKPORT_DATA_DIR`` or the default's rule."""
    if from_env:
        return f"from {ENV}"
    return f"the default, from any folder: {DEFAULT_RULE}; {ENV} sets another"


def help_epilog() -> str:
    """For a parser with ``RawDescriptionHelpFormatter``: argparse would wrap a path at its hyphens."""
    try:
        settings = Settings.from_env()
    except ValueError:  # a bad value elsewhere in the environment: the command itself will say so
        settings = Settings()
    path, from_env = located(settings)
    return f"local data directory:\n  {path}\n  ({describe(path, from_env)})"


def adopt_checkout_data(old: Path, settings: Settings, from_env: bool) -> str | None:
    """Before the per-user default, ``make dev`` kept its data in the checkout's ``.clickport/``: move it to the
    default data directory once, so the server and ``clickport`` from any folder see the same sites and keys.

    Nothing moves when ``old`` holds no data, when ``CLICKPORT_DATA_DIR`` chose the directory, or when the
    default already holds data (then the message says how to keep using ``old``). Returns what to tell the user.
    """
    old = Path(os.path.abspath(old))
    if from_env or not (old / "config.sqlite3").is_file():
        return None
    target = Path(os.path.abspath(settings.data_dir))
    if target == old:
        return None
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        return (f"note: {old} (this checkout's data from an earlier version) is left as it is; the data "
                f"directory is {target} now. To use the old one instead: {ENV}={old} make dev")
    if target.is_dir():
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(old), str(target))
    return (f"moved this checkout's data from {old} to {target}, the default data directory now "
            f"(the same for 'clickport' from every folder)")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "adopt":
        print("usage: python -m clickport.cli.datadir adopt PATH", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    message = adopt_checkout_data(Path(argv[1]), settings, located(settings)[1])
    if message:
        print(message, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
