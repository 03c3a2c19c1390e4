"""Headless Chromium for the dashboard tests: Debian's chromium and chromium-driver through Selenium,
never a downloaded browser or driver. Shared by the walk-through and the load measurement."""

import os
import sys
import time

os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not try to download a driver.

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def start_browser(profile_dir, server_key_pin=None, width=1400, height=1000):
    """A headless Chromium with its own profile. `server_key_pin` (base64 SHA-256 of the test
    server's public key) makes Chromium accept that one self-made certificate and no other."""
    options = Options()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # tests run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(argument)
    if server_key_pin:
        options.add_argument(f"--ignore-certificate-errors-spki-list={server_key_pin}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_until(driver, what, condition, timeout=30):
    """Waits (bounded) until `condition(driver)` is truthy; the failure names `what`. An element
    that is not there yet, or was just replaced by the page, counts as not yet."""
    try:
        waiting = WebDriverWait(driver, timeout, poll_frequency=0.1, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))
        return waiting.until(lambda d: condition(d))
    except Exception as error:
        raise AssertionError(f"timed out after {timeout} s waiting until {what}") from error


def await_test(control_dir, name, timeout=60):
    """Asks the XCTest driving this script to do `name` (kill an agent, stop a gateway) and waits
    until it says it is done by creating the file `control_dir/name`."""
    print(f"AWAIT {name}", flush=True)
    path = os.path.join(control_dir, name)
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise AssertionError(f"the test did not do '{name}' within {timeout} s")
        time.sleep(0.05)


def log(text):
    print(text, flush=True)
    sys.stdout.flush()
