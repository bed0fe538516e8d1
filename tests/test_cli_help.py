"""`antrian --help` and every subcommand's help are Indonesian: argparse's own words (usage,
sections, -h) and each command's and option's help text come from the catalogue."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

from antrian.cli import build_parser

ENGLISH = re.compile(r"\b(the|default|and|of|for|with|to|this|show|usage|options|positional|"
                     r"arguments|message|exit|print|write|list|or|a|an|name|file|seconds)\b",
                     re.I)


def parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from parsers(sub)


def test_every_help_text_is_indonesian() -> None:
    found = list(parsers(build_parser()))
    assert len(found) >= 30  # every subcommand, nested ones (officer add, voice export) too
    english = []
    for parser in found:
        assert parser.format_help().startswith("penggunaan: ")  # each formats (no stray %)
        for action in parser._actions:
            helps = [action.help or ""]
            if isinstance(action, argparse._SubParsersAction):
                helps += [choice.help or "" for choice in action._choices_actions]
            english += [(parser.prog, text) for text in helps if ENGLISH.search(
                re.sub(r"`[^`]*`|--[\w-]+|\b[A-Z_]{3,}\b|\[[^\]]*\]|\S+://\S+", "", text))]
    assert english == []


def test_help_layout_words_are_indonesian() -> None:
    top = build_parser()
    for parser in (top, *[p for p in parsers(top) if p.prog == "antrian officer add"]):
        text = parser.format_help()
        assert text.startswith("penggunaan: ")
        assert "pilihan:" in text and "menampilkan bantuan ini lalu keluar" in text
        assert not re.search(r"usage:|options:|positional arguments|show this help", text)
    assert "NIP atau nama pendek (huruf kecil)" in next(
        p for p in parsers(top) if p.prog == "antrian officer add").format_help()
