"""cockpit.connect.archive: a CI artifact's zip read in memory, hostile archives refused."""

from __future__ import annotations

import io
import zipfile

import pytest

from cockpit.connect.archive import ArchiveProblem, members, unsafe_name


def zipped(files: dict[str, bytes], *, encrypted: str = "") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    data = bytearray(out.getvalue())
    if encrypted:
        # Set the "encrypted" flag bit of the entry in the central directory, as an
        # encrypting zip tool would (the stdlib cannot write encrypted zips).
        at = data.find(b"PK\x01\x02")
        data[at + 8] |= 0x1
    return bytes(data)


def test_only_wanted_files_are_read_in_archive_order() -> None:
    data = zipped({"a/report.xml": b"<a/>", "notes.txt": b"x", "b.xml": b"<b/>"})
    found = members(data, lambda n: n.endswith(".xml"))
    assert [(m.name, m.content) for m in found] == [("a/report.xml", b"<a/>"), ("b.xml", b"<b/>")]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../x.xml", "climbs out"),
        ("a/../../x.xml", "climbs out"),
        ("/abs.xml", "absolute"),
        ("C:/win.xml", "absolute"),
        ("a\\b.xml", "backslash"),
        ("", "empty"),
        ("a/b..c.xml", ""),  # two dots inside a name are fine
    ],
)
def test_unsafe_names(name: str, why: str) -> None:
    assert why in unsafe_name(name) if why else unsafe_name(name) == ""


def test_an_unsafe_name_anywhere_refuses_the_whole_archive() -> None:
    data = zipped({"ok.xml": b"<a/>", "../../etc/cron.d/x": b"* * * * * root sh"})
    with pytest.raises(ArchiveProblem, match="climbs out"):
        members(data, lambda n: n.endswith(".xml"))


def test_inflated_bytes_are_counted_not_trusted_from_the_header() -> None:
    data = zipped({"bomb.xml": b"\0" * (8 << 20)})
    assert len(data) < 64 << 10
    with pytest.raises(ArchiveProblem, match="more than 1 MiB inflated"):
        members(data, lambda n: True, max_unzipped=1 << 20)


def test_the_entry_count_is_capped() -> None:
    data = zipped({f"{i}.xml": b"" for i in range(11)})
    with pytest.raises(ArchiveProblem, match="11 entries, more than 10"):
        members(data, lambda n: True, max_entries=10)


def test_not_a_zip_and_an_encrypted_entry_are_problems() -> None:
    with pytest.raises(ArchiveProblem, match="not a zip"):
        members(b"<html>Moved</html>", lambda n: True)
    with pytest.raises(ArchiveProblem, match="encrypted"):
        members(zipped({"a.xml": b"<a/>"}, encrypted="a.xml"), lambda n: True)
