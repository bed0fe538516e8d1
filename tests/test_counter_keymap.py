"""counter_client.keymap: default keys, keypad files, and the errors of a malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter_client.keymap import DEFAULT_KEYS, KeymapError, key_name, load_keymap
from protocol.officer_keys import legend
from texts import t


def test_default_keys_without_a_file() -> None:
    """SPEC's layout: Enter/Space Panggil, U Panggil ulang, L Lewati, S Selesai, A Alihkan,
    J Jeda/Lanjut, K Kembalikan; Esc cancels, Q quits; letters also work with Caps Lock."""
    keymap = load_keymap(None)
    assert keymap.keys == DEFAULT_KEYS == {
        "enter": "call_next", "space": "call_next", "u": "recall", "l": "skip", "s": "done",
        "a": "transfer", "j": "pause", "k": "restore", "escape": "cancel", "q": "quit"}
    assert keymap.action("U") == "recall" and keymap.action("S") == "done"
    assert keymap.action("x") is None and keymap.action("r") is None
    assert keymap.describe("call_next") == "Enter/Spasi"
    assert keymap.legend() == legend(t, terminal=True)


def test_a_keypad_file_written_for_the_old_default_keys_still_loads(tmp_path: Path) -> None:
    """The action names did not change: a file binding the old letters (R, D, T, P) adds them
    beside the new defaults; an action name that does not exist names the ones that do."""
    path = tmp_path / "old.toml"
    path.write_text('[keys]\n"r" = "recall"\n"d" = "done"\n"t" = "transfer"\n"p" = "pause"\n')
    keymap = load_keymap(path)
    assert [keymap.action(k) for k in "rdtp"] == ["recall", "done", "transfer", "pause"]
    assert keymap.action("u") == "recall" and keymap.describe("recall") == "U/R"
    path.write_text('[keys]\n"r" = "ulangi"\n')
    with pytest.raises(KeymapError) as caught:
        load_keymap(path)
    assert "ulangi" in str(caught.value) and "call_next, recall, skip" in str(caught.value)


def test_keypad_characters_get_textuals_key_names() -> None:
    """+ - * / . are named as Textual reports them; names are kept; nonsense is None."""
    assert [key_name(k) for k in "+-*/."] == ["plus", "minus", "asterisk", "slash", "full_stop"]
    assert key_name("Enter") == "enter" and key_name("f5") == "f5" and key_name("7") == "7"
    assert key_name("numpad_plus") is None and key_name("\x07") is None


def test_a_keypad_file_adds_to_the_defaults(tmp_path: Path) -> None:
    """Keys in the file are added; a key already used gets the file's action."""
    path = tmp_path / "keypad.toml"
    path.write_text('[keys]\n"+" = "call_next"\n"-" = "recall"\n"enter" = "done"\n"0" = "cancel"\n')
    keymap = load_keymap(path)
    assert keymap.action("plus") == "call_next" and keymap.action("minus") == "recall"
    assert keymap.action("enter") == "done" and keymap.action("0") == "cancel"
    assert keymap.action("u") == "recall"
    assert keymap.describe("call_next") == "Spasi/+"


@pytest.mark.parametrize(("text", "fragment"), [
    ("[keys]\n'+' = 'call_next'\n'+' = 'skip'\n", "bukan TOML yang sah"),
    ("[keys]\n'+' = 1\n", "tindakan 1 yang tidak dikenal"),
    ("keys = 'plus'\n", "satu tabel [keys]"),
    ("[keys]\n[other]\n", "satu tabel [keys]"),
    ("[keys]\n'' = 'skip'\n", "nama tombol '' tidak dikenal"),
])
def test_malformed_files_raise_keymap_error(tmp_path: Path, text: str, fragment: str) -> None:
    """Every problem is a KeymapError naming the file."""
    path = tmp_path / "keypad.toml"
    path.write_text(text)
    with pytest.raises(KeymapError) as caught:
        load_keymap(path)
    assert fragment in str(caught.value) and str(path) in str(caught.value)


def test_a_file_that_is_not_text(tmp_path: Path) -> None:
    """Binary garbage is reported as not TOML, not as a crash."""
    path = tmp_path / "keypad.toml"
    path.write_bytes(b"\xff\xfe\x00[keys]")
    with pytest.raises(KeymapError, match="bukan TOML"):
        load_keymap(path)
