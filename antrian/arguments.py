"""The `antrian` command's option errors and help in Bahasa Indonesia: argparse writes them in
English ("the following arguments are required: ...", "usage:", "options:"), and the office reads
them. Each known message is put into Indonesian; the command's own messages
(argparse.ArgumentTypeError) and help texts (t("help....")) already are."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

from texts import N_, t

# argparse's messages (Python 3.11 and later), each with the catalogue key that says it
KNOWN: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.S), key) for pattern, key in (
        (r"the following arguments are required: (?P<names>.+)", N_("args.required")),
        (r"unrecognized arguments: (?P<names>.+)", N_("args.unrecognized")),
        (r"one of the arguments (?P<names>.+) is required", N_("args.one_of")),
        (r"ambiguous option: (?P<option>\S+) could match (?P<names>.+)", N_("args.ambiguous")),
        (r"argument (?P<argument>[^:]+): invalid choice: (?P<value>.+?) \(choose from "
         r"(?P<names>.+)\)", N_("args.invalid_choice")),
        (r"argument (?P<argument>[^:]+): invalid \S+ value: (?P<value>.+)",
         N_("args.invalid_value")),
        (r"argument (?P<argument>[^:]+): expected .*argument.*", N_("args.expected")),
        (r"argument (?P<argument>[^:]+): not allowed with argument (?P<names>.+)",
         N_("args.not_allowed")),
        (r"argument (?P<argument>[^:]+): (?P<message>.+)", N_("args.other")),
    ))


def indonesian(message: str) -> str:
    """argparse's error `message` in Indonesian (unknown ones as they are)."""
    for pattern, key in KNOWN:
        found = pattern.fullmatch(message)
        if found:
            values = found.groupdict()
            if values.get("argument") == "command":  # the subcommand's place
                values["argument"] = t("args.command")
            return t(key, **values)
    return message


class Formatter(argparse.HelpFormatter):
    """argparse's help layout with its own word ("usage: ") from the catalogue."""

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup],
                  prefix: str | None = None) -> None:
        word = t("args.usage") + " " if prefix is None else prefix
        super().add_usage(usage, actions, groups, word)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one Indonesian line (and exit 2) and whose help is in
    Indonesian too (its own words from the catalogue, the commands' help texts by t()); its
    subcommands' parsers are of the same class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        self._positionals.title = t("args.positionals")
        self._optionals.title = t("args.options")
        for action in self._actions:
            if isinstance(action, argparse._HelpAction):
                action.help = t("args.help")

    def error(self, message: str) -> NoReturn:
        hint = t("args.help_hint", command=self.prog)
        print(f"{self.prog}: {indonesian(message)} {hint}", file=sys.stderr)
        raise SystemExit(2)
