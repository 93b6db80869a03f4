"""Draw the app icons (PNG) from frontend/static/frontend/icon.svg with Chromium, for the
web app manifest and the home screens of phones. Run it after changing the SVG:

    .venv/bin/python scripts/make_icons.py

It needs Debian's chromium (as the browser tests do); the PNGs it writes are committed,
so neither the server nor the tests run it.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC = Path(__file__).resolve().parent.parent / "frontend" / "static" / "frontend"
# name: (size in pixels, how much of it the drawing fills). A maskable icon keeps its
# drawing inside the middle 80% that every launcher's mask leaves whole; iOS rounds
# the corners of its own icon, which must not be transparent.
ICONS = {"icon-192.png": (192, 1.0), "icon-512.png": (512, 1.0), "icon-maskable-512.png": (512, 0.72),
         "apple-touch-icon.png": (180, 0.8)}


def main() -> None:
    svg = (STATIC / "icon.svg").read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--headless", "--no-sandbox", "--disable-gpu"])
        for name, (size, fill) in ICONS.items():
            page = browser.new_page(viewport={"width": size, "height": size})
            drawn = int(size * fill)
            background = "#b3121f" if fill < 1 else "transparent"
            page.set_content(
                f'<html><body style="margin:0;background:{background};display:grid;place-items:center;'
                f'width:{size}px;height:{size}px"><div style="width:{drawn}px;height:{drawn}px">'
                f'{svg.replace("<svg ", f"<svg width={drawn} height={drawn} ", 1)}</div></body></html>')
            page.screenshot(path=str(STATIC / name), omit_background=fill == 1.0)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
