"""A downloaded zip (a CI artifact) read in memory, bounded: never extracted to disk.

An archive comes from a build anyone with push access controls, so it is read as hostile:
a cap on entries and on what is inflated (a zip bomb declares small sizes and inflates
to gigabytes, so the bytes are counted as they come out, not taken from the header),
and names that try to climb out of the archive, point at an absolute path or are links
are refused, which makes the whole archive unusable rather than quietly partial.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from cockpit.connect.http_safety import size_words

MAX_ENTRIES = 1000
MAX_UNZIPPED = 64 << 20  # inflated bytes read from one archive, all wanted files together


class ArchiveProblem(ValueError):
    """Why an archive cannot be used, in words (its names are cleaned by the caller)."""


@dataclass(frozen=True)
class Member:
    name: str  # its path inside the archive, "/"-separated
    content: bytes


def unsafe_name(name: str) -> str:
    """Why `name` may not be read from an archive, or "" when it is a plain relative path."""
    if not name or "\x00" in name:
        return "an empty or NUL name"
    if "\\" in name:
        return "a backslash in a name"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    if any(part == ".." for part in name.split("/")):
        return "a path that climbs out (..)"
    return ""


def members(
    data: bytes,
    wanted: Callable[[str], bool],
    *,
    max_entries: int = MAX_ENTRIES,
    max_unzipped: int = MAX_UNZIPPED,
) -> list[Member]:
    """The files of the zip `data` whose names `wanted` accepts, in archive order.

    Raises ArchiveProblem for anything that makes the archive untrustworthy: not a zip,
    too many entries, an unsafe or link entry anywhere in it, encryption, or more than
    `max_unzipped` bytes inflated from the wanted files.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ArchiveProblem("not a zip archive") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > max_entries:
            raise ArchiveProblem(f"{len(infos)} entries, more than {max_entries}")
        for info in infos:
            why = unsafe_name(info.filename)
            if why:
                raise ArchiveProblem(f"{why}: {info.filename[:120]!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ArchiveProblem(f"a symbolic link: {info.filename[:120]!r}")
        out: list[Member] = []
        left = max_unzipped
        for info in infos:
            if info.is_dir() or not wanted(info.filename):
                continue
            if info.flag_bits & 0x1:
                raise ArchiveProblem(f"an encrypted entry: {info.filename[:120]!r}")
            try:
                with archive.open(info) as handle:
                    content = handle.read(left + 1)
            except (zipfile.BadZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
                raise ArchiveProblem(
                    f"{info.filename[:120]!r} cannot be read ({type(exc).__name__})"
                ) from None
            if len(content) > left:
                raise ArchiveProblem(f"more than {size_words(max_unzipped)} inflated")
            left -= len(content)
            out.append(Member(info.filename, content))
        return out
