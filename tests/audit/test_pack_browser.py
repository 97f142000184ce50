"""The evidence pack's report.html in a real headless Chromium: the page renders, its text
says what the pack holds, and the hostile reason stays text (no script element appears)."""

from __future__ import annotations

import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.audit.pack_day import scripted_day, unzip
from tests.binaries import binary
from tests.cli import cockpit

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)  # fmt: skip
WIDTH, HEIGHT = 1280, 2000


class _Text(HTMLParser):
    """The page's visible text and its element names, from the browser's DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)
        self._skip += tag in ("style", "title")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("style", "title")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    exe = binary("chromium", "apt-get install -y chromium")
    return subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the inflated scanlines of a PNG (read here: no imaging library)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, width, height, idat = 8, 0, 0, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    db = scripted_day(folder)
    pack = folder / "evidence.zip"
    out = cockpit("audit", "report", "--db", str(db), "--since", "2026-11-26", "--pack", str(pack))
    assert out.returncode == 0, out.stderr
    unzip(pack, folder / "unzipped")
    return folder / "unzipped" / "report.html"


def test_the_report_renders_in_chromium_with_its_headings_changes_and_controls(
    page: Path, tmp_path: Path
) -> None:
    dumped = chromium(page, tmp_path / "dom", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    dom = dumped.stdout.decode()
    parsed = _Text()
    parsed.feed(dom)
    text = " ".join(" ".join(parsed.text).split())
    for heading in (
        "Audit evidence pack",
        "Audit log",
        "Verification",
        "Production changes (5)",
        "Control map",
        "Refused self-approval (1)",
        "Hotfix without follow-up (1)",
    ):
        assert heading in text, heading
    assert "checkout in prod promote" in text
    assert "approvers: bob@bastion-1" in text and "author: alice@bastion-1" in text
    assert "SOX ITGC change management satisfied" in text
    assert "cart/prod rollback" in text and "MISSING" in text
    assert "audit log intact" in text and "exit 0" in text
    # the hostile reason is text on the page, never an element
    assert "<script>alert(1)</script>" in text and "<b>bold</b>" in text
    assert "script" not in parsed.tags and "b" in parsed.tags  # <b> only from the page itself
    assert "img" not in parsed.tags and "iframe" not in parsed.tags


def test_the_screenshot_is_a_page_not_a_blank(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = chromium(
        page, tmp_path / "shot", f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}"
    )
    assert done.returncode == 0 and shot.exists(), done.stderr.decode(errors="replace")[-2000:]
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    # text, rules and coloured statuses: many distinct byte values, most of the page drawn
    assert len(set(pixels)) > 64
    rows = [
        pixels[i : i + len(pixels) // HEIGHT] for i in range(0, len(pixels), len(pixels) // HEIGHT)
    ]
    assert sum(len(set(r)) > 2 for r in rows) > HEIGHT // 4
