"""counter_client.credentials: where the token comes from, and which token files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from counter_client.credentials import TokenError, read_token_file, resolve_token


def test_flag_then_file_then_environment(tmp_path: Path) -> None:
    """The flag wins over the file, the file over ANTRIAN_TOKEN."""
    path = tmp_path / "token"
    path.write_text("from-file\n")
    path.chmod(0o600)
    env = {"ANTRIAN_TOKEN": " from-env "}
    assert resolve_token("from-flag", str(path), env) == "from-flag"
    assert resolve_token(None, str(path), env) == "from-file"
    assert resolve_token(None, None, env) == "from-env"
    with pytest.raises(TokenError, match="ANTRIAN_TOKEN"):
        resolve_token(None, None, {})


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o666])
def test_a_file_others_may_read_or_change_is_refused(tmp_path: Path, mode: int) -> None:
    """Any group or world permission refuses the file, naming its mode and the fix."""
    path = tmp_path / "token"
    path.write_text("secret")
    path.chmod(mode)
    with pytest.raises(TokenError, match="chmod 600"):
        read_token_file(path)


def test_an_owner_only_file_is_read_and_stripped(tmp_path: Path) -> None:
    """Mode 400 or 600: the token without surrounding whitespace."""
    path = tmp_path / "token"
    path.write_text("  abc123\n")
    path.chmod(0o400)
    assert read_token_file(path) == "abc123"


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("\n")
    path.chmod(0o600)
    with pytest.raises(TokenError, match="kosong"):
        read_token_file(path)
