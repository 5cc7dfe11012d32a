"""``deepimage demo``, the README's first command, end to end: every part of the tour, and
its HTML page opened in headless Chromium (Debian's ``chromium``), where every picture
must load. Without Chromium the page check skips, unless ``DEEPIMAGE_REQUIRE_BROWSER=1``
(CI installs it and sets that)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from deepimage.demo.tour import PARTS

pytestmark = pytest.mark.integration

HARNESS = """<!DOCTYPE html><html><body>
<iframe id="page" src="{page}" width="1200" height="900"></iframe>
<script>
document.getElementById("page").addEventListener("load", () => {{
  const images = [...document.getElementById("page").contentDocument.images];
  const broken = images.filter(i => !(i.complete && i.naturalWidth > 0))
                       .map(i => i.getAttribute("src"));
  const out = document.createElement("pre");
  out.id = "result";
  out.textContent = JSON.stringify({{images: images.length, broken: broken}});
  document.body.appendChild(out);
}});
</script></body></html>
"""


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from tests.conftest import run_deepimage

    out = tmp_path_factory.mktemp("demo") / "demo"
    result = run_deepimage("demo", "-o", str(out), "--quiet", "--json")
    assert result.code == 0, result.stderr
    return result.json()


def test_the_tour_runs_every_part_with_real_figures(tour: dict) -> None:
    parts = {part["name"]: part for part in tour["results"]}
    assert list(parts) == list(PARTS)
    assert parts["classify"]["figures"]["test top-1"] > 0.9
    assert parts["detect"]["figures"]["val mAP@0.5"] > 0.5
    assert parts["segment"]["figures"]["val mIoU"] > 0.4
    assert parts["face"]["figures"]["identified as"] == "Eileen Collins"
    assert parts["generate"]["figures"]["val PSNR (dB)"] > 15
    assert parts["process"]["figures"]["Otsu mask values"] == [0, 255]
    for part in tour["results"]:
        assert part["pictures"] and all(Path(p).is_file() for p in part["pictures"])
    assert Path(tour["page"]).is_file()


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("DEEPIMAGE_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    return found


def test_the_page_shows_every_picture_in_chromium(tour: dict, tmp_path: Path) -> None:
    browser = _chromium()
    page = Path(tour["page"])
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "page.png"
    subprocess.run(
        [*flags, "--window-size=1200,3000", f"--screenshot={shot}", page.as_uri()],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000
    harness = page.parent / "check.html"
    harness.write_text(HARNESS.format(page=page.name))
    dom = subprocess.run(
        [*flags, "--allow-file-access-from-files", "--virtual-time-budget=15000", "--dump-dom",
         harness.as_uri()],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    found = re.search(r'<pre id="result">(.*?)</pre>', dom)
    assert found, dom[-2000:]
    result = json.loads(found.group(1))
    pictures = sum(len(part["pictures"]) for part in tour["results"])
    assert result == {"images": pictures, "broken": []}


def test_an_unknown_part_is_named(tmp_path: Path) -> None:
    from tests.conftest import run_deepimage

    result = run_deepimage("demo", "--task", "dance", "-o", str(tmp_path))
    assert result.code == 2 and "dance" in result.stderr and "detect" in result.stderr
