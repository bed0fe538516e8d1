"""counter_client.keymap: default keys, keypad files, and the errors of a malformed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter_client.keymap import DEFAULT_KEYS, KeymapError, key_name, load_keymap


def test_default_keys_without_a_file() -> None:
    """Enter/Space call, letters act, Esc cancels; letters also work with Caps Lock."""
    keymap = load_keymap(None)
    assert keymap.keys == DEFAULT_KEYS
    assert keymap.action("enter") == keymap.action("space") == "call_next"
    assert keymap.action("R") == "recall"
    assert keymap.action("x") is None
    assert keymap.describe("call_next") == "Enter/Spasi"


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
    assert keymap.action("r") == "recall"
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
