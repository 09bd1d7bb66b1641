# Copyright 2026 mail_routing_policy developers
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

"""Screenshot of a page of a running Odoo, logged in, through headless Chromium.

Used by ``scripts/screenshot`` for static/description (the Apps screen):
the picture shows the real module, never a mock-up.

    python screenshot.py --url http://127.0.0.1:8071 --db DB --path /odoo/settings \
        --block "Mail routing" --out static/description/settings.png
    python screenshot.py ... --path
    /odoo/action-mail_routing_policy.mail_gateway_log_action/7 \
        --selector .o_form_view --wait-text Quarantined --out log.png
"""
# pylint: disable=print-used  # a command-line tool: prints its report

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time

import requests
import websocket


def login(url, db, login_name, password):
    session = requests.Session()
    response = session.post(
        f"{url}/web/session/authenticate",
        json={
            "jsonrpc": "2.0",
            "params": {"db": db, "login": login_name, "password": password},
        },
        timeout=60,
    )
    response.raise_for_status()
    if response.json().get("error"):
        raise SystemExit(f"login failed: {response.json()['error']}")
    return session.cookies["session_id"]


class Chrome:
    def __init__(self, port=9333):
        binary = shutil.which("chromium") or shutil.which("google-chrome")
        if not binary:
            raise SystemExit("Chromium is needed: apt-get install chromium")
        self.profile = tempfile.mkdtemp(prefix="mrp-chrome-")
        self.process = subprocess.Popen(
            [
                binary,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile}",
                "--window-size=1400,2600",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(100):
            try:
                targets = requests.get(
                    f"http://127.0.0.1:{port}/json", timeout=1
                ).json()
                page = next(target for target in targets if target["type"] == "page")
                break
            except (requests.RequestException, StopIteration):
                time.sleep(0.2)
        else:
            raise SystemExit("Chromium did not start")
        self.socket = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=60
        )
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            answer = json.loads(self.socket.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise SystemExit(f"{method}: {answer['error']}")
                return answer.get("result", {})

    def evaluate(self, expression):
        result = self.call(
            "Runtime.evaluate",
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        return result.get("result", {}).get("value")

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


BLOCK_BOX = """(() => {{
    const title = [...document.querySelectorAll('h2')]
        .find((h) => h.textContent.trim() === {name});
    if (!title) return null;
    let box = title.nextElementSibling;
    while (box && !box.classList.contains('o_settings_container')) {{
        box = box.nextElementSibling;
    }}
    if (!box) return null;
    title.scrollIntoView({{block: 'start'}});
    const top = title.getBoundingClientRect(), body = box.getBoundingClientRect();
    const left = Math.min(top.left, body.left) - 16;
    return {{x: left, y: top.top - 16,
             width: Math.max(top.right, body.right) - left + 16,
             height: body.bottom - top.top + 32}};
}})()"""

# the first element matching a CSS selector, once it shows ``text`` (if given)
ELEMENT_BOX = """(() => {{
    const element = document.querySelector({selector});
    if (!element || !element.textContent.includes({text})) return null;
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height) return null;
    return {{x: box.left, y: box.top, width: box.width, height: box.height}};
}})()"""

# an Odoo text field filled as a user types it
FILL = """(() => {{
    const field = document.querySelector({field});
    if (!field) return false;
    field.value = {value};
    field.dispatchEvent(new Event('input', {{bubbles: true}}));
    field.dispatchEvent(new Event('change', {{bubbles: true}}));
    return true;
}})()"""

# then a button clicked, once it shows (a button may appear only once the
# field has a value)
CLICK = """(() => {{
    const button = [...document.querySelectorAll('button')]
        .find((b) => b.textContent.trim() === {button} && b.offsetParent);
    if (!button) return false;
    button.click();
    return true;
}})()"""


def wait_for(chrome, expression, what, attempts=900):
    # the first visit builds the asset bundles: minutes on a busy machine
    for _attempt in range(attempts):
        found = chrome.evaluate(expression)
        if found:
            return found
        time.sleep(0.2)
    raise SystemExit(f"{what} did not appear ({chrome.evaluate('location.href')})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--path", required=True)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--block", help="title of the settings block to capture")
    target.add_argument(
        "--selector", help="CSS selector of the element to capture (a form, a dialog)"
    )
    parser.add_argument(
        "--wait-text",
        default="",
        help="with --selector: capture once the element shows this text",
    )
    parser.add_argument(
        "--fill",
        nargs=2,
        metavar=("FIELD_SELECTOR", "FILE"),
        help="type FILE's text into a field",
    )
    parser.add_argument(
        "--click", default="", help="with --fill: the button to click afterwards"
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    args = parser.parse_args()
    session_id = login(args.url, args.db, args.login, args.password)
    chrome = Chrome()
    try:
        host = args.url.split("://", 1)[1].split(":")[0].split("/")[0]
        chrome.call("Network.enable")
        chrome.call(
            "Network.setCookie",
            name="session_id",
            value=session_id,
            domain=host,
            path="/",
        )
        chrome.call("Page.enable")
        chrome.call("Page.navigate", url=f"{args.url}{args.path}")
        if args.fill:
            with open(args.fill[1], encoding="utf-8") as handle:
                value = handle.read()
            fill = FILL.format(field=json.dumps(args.fill[0]), value=json.dumps(value))
            wait_for(chrome, fill, f"field {args.fill[0]}")
            if args.click:
                time.sleep(0.3)  # the field's change reaches the form first
                click = CLICK.format(button=json.dumps(args.click))
                wait_for(chrome, click, f"button {args.click!r}")
        if args.block:
            find_box = BLOCK_BOX.format(name=json.dumps(args.block))
            what = f"settings block {args.block!r}"
        else:
            find_box = ELEMENT_BOX.format(
                selector=json.dumps(args.selector), text=json.dumps(args.wait_text)
            )
            what = f"element {args.selector!r} showing {args.wait_text!r}"
        wait_for(chrome, find_box, what)
        time.sleep(1.5)  # let fonts and icons settle
        box = chrome.evaluate(find_box)
        shot = chrome.call(
            "Page.captureScreenshot",
            format="png",
            captureBeyondViewport=True,
            clip={
                "x": box["x"],
                "y": box["y"],
                "width": box["width"],
                "height": box["height"],
                "scale": 1,
            },
        )
        with open(args.out, "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
        print(f"written {args.out} ({int(box['width'])}x{int(box['height'])})")
    finally:
        chrome.close()


if __name__ == "__main__":
    main()
