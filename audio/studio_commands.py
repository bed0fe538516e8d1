"""`antrian voice script|publish|versions|restore|export|import`: the voice studio's packs from the
command line (the same folders and rules as /admin/suara)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from audio.settings import AnnouncementSettings
from audio.studio import Studio, needed_clips
from display_server.config import load_config
from display_server.paths import data_dir
from texts import t

Common = Callable[[argparse.ArgumentParser], None]
Guard = Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]


def register(voice_sub: Any, common: Common, guarded: Guard) -> None:
    """Add the studio's subcommands under `antrian voice`."""
    script = voice_sub.add_parser("script", help=t("help.voice_script"))
    common(script)
    script.set_defaults(func=guarded(_script))
    publish = voice_sub.add_parser("publish", help=t("help.voice_publish"))
    common(publish)
    publish.set_defaults(func=guarded(_publish))
    versions = voice_sub.add_parser("versions", help=t("help.voice_versions"))
    common(versions)
    versions.set_defaults(func=guarded(_versions))
    restore = voice_sub.add_parser("restore", help=t("help.voice_restore"))
    common(restore)
    restore.add_argument("version", type=int)
    restore.set_defaults(func=guarded(_restore))
    export = voice_sub.add_parser("export", help=t("help.voice_export"))
    common(export)
    export.add_argument("--out", type=Path, required=True, help=t("help.voice_export_out"))
    export.add_argument("--draft", action="store_true", help=t("help.voice_export_draft"))
    export.set_defaults(func=guarded(_export))
    load = voice_sub.add_parser("import", help=t("help.voice_import"))
    common(load)
    load.add_argument("file", type=Path)
    load.set_defaults(func=guarded(_import))


def _open(args: argparse.Namespace) -> tuple[Studio, AnnouncementSettings]:
    site = load_config(args.config)
    directory = data_dir(args.data_dir)
    return Studio.for_site(site.announcement.voice_pack, directory), \
        AnnouncementSettings.from_site(site, directory)


def _script(args: argparse.Namespace) -> int:
    studio, settings = _open(args)
    draft = studio.draft()
    needed = needed_clips(settings)
    done = 0
    for clip in needed:
        recorded = clip.key in draft.clips and draft.clips[clip.key].is_file()
        done += recorded
        print(f"[{'x' if recorded else ' '}] {clip.read}")
    print(t("voice.script_done", done=done, total=len(needed)))
    return 0


def _publish(args: argparse.Namespace) -> int:
    studio, _ = _open(args)
    print(t("studio.published_now", version=studio.publish()))
    return 0


def _versions(args: argparse.Namespace) -> int:
    studio, _ = _open(args)
    found = studio.versions()
    if not found:
        print(t("studio.no_pack"))
    for version in found:
        when = datetime.fromtimestamp(version.published).strftime("%Y-%m-%d %H:%M")
        mark = f" ({t('studio.active').lower()})" if version.active else ""
        print(t("voice.version_line", version=version.number, when=when, clips=version.clips)
              + mark)
    return 0


def _restore(args: argparse.Namespace) -> int:
    studio, _ = _open(args)
    studio.restore(args.version)
    print(t("studio.restored", version=args.version))
    return 0


def _export(args: argparse.Namespace) -> int:
    studio, _ = _open(args)
    data = studio.export(draft=args.draft)
    args.out.write_bytes(data)
    print(t("voice.exported", path=args.out, kb=len(data) // 1024))
    return 0


def _import(args: argparse.Namespace) -> int:
    studio, _ = _open(args)
    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise ValueError(t("voice.unreadable_file", path=args.file, error=error)) from None
    print(t("studio.imported", clips=studio.import_pack(data)))
    return 0
