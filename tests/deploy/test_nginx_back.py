"""What nginx's refusal page says after a refused no-JavaScript post is true in the browser
of the people who post forms, Firefox ESR at Tor Browser's Safest level: going Back re-fetches
the form (this site's pages are no-store) and what was typed is gone. Issue 17 asked the page
to say "go back, your text is still there"; this is why it says the opposite. Should a browser
start keeping the form, this test fails and the page may promise it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import running_stack

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HERE = Path(__file__).parent
ROOT = HERE.parents[1]
MESSAGE = "Они снова пришли ночью, back-canary 7f3e"


def test_a_refused_post_keeps_the_message_in_the_browser(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("node and node_modules are needed (make js)")
    with running_stack(tmp_path) as stack:
        assert stack.app is not None
        url = f"http://127.0.0.1:{stack.plain_port}"
        with subprocess.Popen(
            [node, str(HERE / "drive_back.js"), url, MESSAGE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as driver:
            assert driver.stdout is not None and driver.stdin is not None
            assert driver.stdout.readline() == "typed\n", driver.stderr.read()  # type: ignore[union-attr]
            stack.app.close()  # the app is gone, its socket refuses: nginx answers itself
            driver.stdin.write("go\n")
            driver.stdin.flush()
            assert driver.stdout.readline() == "refused\n"
            stack.app.open()  # back, as after a restart: Back reloads the form (no-store)
            stack.app.start()
            driver.stdin.write("back\n")
            driver.stdin.flush()
            out, err = driver.communicate(timeout=180)
        assert driver.returncode == 0, err[-3000:]
    report = json.loads(out.splitlines()[-1])
    assert "если вернуться назад, форма будет пустой" in report["refusal"]  # the form was ru
    assert "Сервис занят или перезапускается" in report["refusal"]
    assert report["kept"] == ""
    layout = report["layout"]  # readable on a phone: nothing wider than the screen, no tiny text
    assert layout["scrollWidth"] <= layout["innerWidth"] == 390, layout
    assert layout["fontPx"] >= 14, layout
