"""`keras-gans demo` in a real browser: Debian's Chromium driven by Playwright.

`.ci/run` installs Chromium (`apt-get install chromium`); each test starts the demo
command in a subprocess, as a user would, and checks what the page shows against the
model itself.
"""

import io
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from keras_gans.demo.actions import DemoActions
from keras_gans.images import to_uint8
from tests import helpers
from tests.test_pix2pix import TINY as PIX2PIX

pytestmark = [pytest.mark.browser, pytest.mark.spread_across_backends]
CHROMIUM = "/usr/bin/chromium"
# As the machine's probe starts it: no sandbox as root, no calls home on a closed network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]  # fmt: skip


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve(tmp_path):
    """Starts `keras-gans demo MODEL` and yields its URL; stops it afterwards."""
    servers = []

    def start(model_path):
        port = _free_port()
        code = "import sys; from keras_gans import cli; sys.exit(cli.main(sys.argv[1:]))"
        log = open(tmp_path / f"demo-{port}.log", "w")
        process = subprocess.Popen(
            [sys.executable, "-c", code, "demo", str(model_path), "--port", str(port)],
            env=helpers.process_env(helpers.BACKEND), cwd=helpers.REPO_ROOT, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        servers.append(process)
        deadline = time.time() + 180
        while time.time() < deadline:
            if process.poll() is not None:
                raise AssertionError((tmp_path / f"demo-{port}.log").read_text()[-3000:])
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return f"http://127.0.0.1:{port}/"
            time.sleep(0.5)
        raise AssertionError("the demo did not start within 180 s")

    yield start
    for process in servers:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def page():
    if not os.path.exists(CHROMIUM):
        raise FileNotFoundError(
            f"{CHROMIUM} is missing: the browser tests drive Debian's Chromium "
            "(apt-get install chromium, as .ci/run does)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def _shown_image(page, selector):
    """The pixels of the image the page shows in `selector` (the PNG it was sent)."""
    image = page.locator(f"{selector} img")
    image.wait_for(timeout=120_000)
    body = page.request.get(image.get_attribute("src")).body()
    return np.asarray(Image.open(io.BytesIO(body)))


def _wait_for_new_image(page, selector, previous):
    deadline = time.time() + 120
    while time.time() < deadline:
        image = page.locator(f"{selector} img")
        if image.count() and image.get_attribute("src") != previous:
            return _shown_image(page, selector)
        time.sleep(0.2)
    raise AssertionError(f"{selector} showed no new image")


def test_the_seed_in_the_page_gives_generates_image(tmp_path, serve, page):
    model = helpers.make_model("ConditionalGAN")
    model.save(tmp_path / "cgan.keras")
    page.goto(serve(tmp_path / "cgan.keras"), wait_until="networkidle")
    page.locator("#seed input").fill("5")
    page.locator("#class input").fill("2")
    page.keyboard.press("Enter")
    page.locator("#generate").click()
    shown = _shown_image(page, "#output")
    expected = to_uint8(model.generate(labels=[2], seed=5))[0]
    np.testing.assert_array_equal(shown.reshape(expected.shape), expected)
    # Another seed: another image, the same as generate's.
    source = page.locator("#output img").get_attribute("src")
    page.locator("#seed input").fill("6")
    page.locator("#generate").click()
    shown = _wait_for_new_image(page, "#output", source)
    expected = to_uint8(model.generate(labels=[2], seed=6))[0]
    np.testing.assert_array_equal(shown.reshape(expected.shape), expected)
    # A seed out of range: a message in the page, and the server keeps serving.
    page.locator("#seed input").fill("-3")
    page.locator("#generate").click()
    page.get_by_text("whole number from 0").first.wait_for(timeout=30_000)
    page.locator("#seed input").fill("6")
    page.locator("#generate").click()
    page.locator("#output img").wait_for(timeout=60_000)


def test_an_uploaded_image_is_translated(tmp_path, serve, page):
    import keras_gans

    pix2pix = keras_gans.Pix2Pix(**PIX2PIX)
    pix2pix.save(tmp_path / "pix2pix.keras")
    photo = np.random.default_rng(0).integers(0, 256, (48, 40, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    page.goto(serve(tmp_path / "pix2pix.keras"), wait_until="networkidle")
    page.locator("#translate_upload input[type=file]").set_input_files(str(tmp_path / "photo.png"))
    page.locator("#translate_upload img").wait_for(timeout=60_000)
    page.locator("#translate").click()
    shown = _shown_image(page, "#translated")
    expected = DemoActions(pix2pix).translate(photo)
    np.testing.assert_array_equal(shown.reshape(expected.shape), expected)
    # A file that is not an image: a message, and the page still works.
    (tmp_path / "notes.txt").write_text("not an image")
    page.locator("#translate_upload input[type=file]").set_input_files(str(tmp_path / "notes.txt"))
    page.locator("#translate").click()
    page.get_by_text("image").first.wait_for(timeout=30_000)
    page.screenshot(path=str(tmp_path / "translate.png"), full_page=True)
