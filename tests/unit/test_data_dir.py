"""The local data directory: one default per user, whatever the working directory; said in --help; a checkout's
old ``.clickport/`` moved there once by ``make dev``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from clickport.cli.datadir import adopt_checkout_data, main as datadir_main
from clickport.cli.main import main
from clickport.settings import Settings


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("CLICKPORT_DATA_DIR", raising=False)
    return home


def test_default_data_dir_is_under_local_share_of_the_home(home):
    assert Settings.from_env({}).data_dir == home / ".local" / "share" / "clickport"


def test_default_data_dir_follows_xdg_data_home(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert Settings.from_env({}).data_dir == tmp_path / "xdg" / "clickport"


def test_relative_xdg_data_home_is_ignored_as_the_xdg_spec_says(home, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    assert Settings.from_env({}).data_dir == home / ".local" / "share" / "clickport"


def test_default_data_dir_does_not_depend_on_the_working_directory(home, tmp_path, monkeypatch):
    seen = []
    for folder in ("a", "b/c"):
        (tmp_path / folder).mkdir(parents=True)
        monkeypatch.chdir(tmp_path / folder)
        seen.append(Settings.from_env({}).data_dir)
    assert seen[0] == seen[1] and seen[0].is_absolute()


def test_clickport_data_dir_overrides_the_default(home, tmp_path):
    assert Settings.from_env({"CLICKPORT_DATA_DIR": str(tmp_path / "mine")}).data_dir == tmp_path / "mine"


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"]])
def test_help_names_the_data_directory(home, capsys, argv):
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 0
    assert capsys.readouterr().out.endswith(
        f"local data directory:\n  {home / '.local' / 'share' / 'clickport'}\n  (the default, from any folder: "
        "$XDG_DATA_HOME/clickport, else ~/.local/share/clickport; CLICKPORT_DATA_DIR sets another)\n")


def test_help_says_when_clickport_data_dir_chose_the_directory(home, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CLICKPORT_DATA_DIR", str(tmp_path / "mine-with-hyphens"))
    with pytest.raises(SystemExit):
        main(["--help"])
    assert capsys.readouterr().out.endswith(
        f"local data directory:\n  {tmp_path / 'mine-with-hyphens'}\n  (from CLICKPORT_DATA_DIR)\n")


# --- make dev: a checkout's old .clickport/ ------------------------------------------------------------


def _old_checkout_data(checkout: Path) -> Path:
    old = checkout / ".clickport"
    old.mkdir(parents=True)
    with sqlite3.connect(old / "config.sqlite3") as db:
        db.execute("create table marker (value text)")
        db.execute("insert into marker values ('old sites and keys')")
    return old


def _marker(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "config.sqlite3") as db:
        return db.execute("select value from marker").fetchone()[0]


def test_make_dev_moves_a_checkouts_old_data_to_the_default_once(home, tmp_path, capsys, monkeypatch):
    old = _old_checkout_data(tmp_path / "checkout")
    monkeypatch.chdir(tmp_path / "checkout")
    assert datadir_main(["adopt", ".clickport"]) == 0
    target = home / ".local" / "share" / "clickport"
    assert f"moved this checkout's data from {old} to {target}" in capsys.readouterr().out
    assert not old.exists() and _marker(target) == "old sites and keys"

    assert datadir_main(["adopt", ".clickport"]) == 0  # the next make dev: nothing left to move
    assert capsys.readouterr().out == ""


def test_an_existing_default_is_never_overwritten(home, tmp_path):
    old = _old_checkout_data(tmp_path / "checkout")
    target = home / ".local" / "share" / "clickport"
    target.mkdir(parents=True)
    (target / "config.sqlite3").write_bytes(b"")
    message = adopt_checkout_data(old, Settings.from_env({}), from_env=False)
    assert message == (f"note: {old} (this checkout's data from an earlier version) is left as it is; the data "
                       f"directory is {target} now. To use the old one instead: CLICKPORT_DATA_DIR={old} make dev")
    assert _marker(old) == "old sites and keys" and (target / "config.sqlite3").read_bytes() == b""


def test_an_empty_default_directory_is_replaced_by_the_old_data(home, tmp_path):
    old = _old_checkout_data(tmp_path / "checkout")
    target = home / ".local" / "share" / "clickport"
    target.mkdir(parents=True)
    assert adopt_checkout_data(old, Settings.from_env({}), from_env=False)
    assert _marker(target) == "old sites and keys" and not old.exists()


def test_nothing_moves_when_clickport_data_dir_is_set_or_there_is_no_old_data(home, tmp_path):
    old = _old_checkout_data(tmp_path / "checkout")
    chosen = Settings.from_env({"CLICKPORT_DATA_DIR": str(tmp_path / "chosen")})
    assert adopt_checkout_data(old, chosen, from_env=True) is None
    assert adopt_checkout_data(tmp_path / "nothing-here", Settings.from_env({}), from_env=False) is None
    assert old.exists() and not (home / ".local" / "share" / "clickport").exists()
