"""Budget: /display with all its assets under 150 KB, and no request leaves the server.

Run: .venv/bin/python bench/page_weight.py
"""

from __future__ import annotations

from urllib.parse import urlsplit

from page_harness import bench

BUDGET = 150 * 1024


def main() -> int:
    with bench() as b:
        page = b.browser.new_page(viewport={"width": 1920, "height": 1080})
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        wire: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent",
               lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished",
               lambda e: wire.__setitem__(e["requestId"], int(e["encodedDataLength"])))
        bodies: dict[str, int] = {}
        page.on("response", lambda r: bodies.__setitem__(r.url, len(r.body())) if r.ok else None)
        page.goto(b.server.url + "/display")
        page.wait_for_function("document.querySelectorAll('.tile').length === 29")
        page.wait_for_timeout(1500)
        origin = urlsplit(b.server.url).netloc
        foreign = [u for u in urls.values() if urlsplit(u).netloc not in (origin, "")
                   and not u.startswith("data:")]
        total_body = sum(bodies.values())
        total_wire = sum(wire.values())
        for url, size in sorted(bodies.items(), key=lambda kv: -kv[1]):
            print(f"  {size / 1024:7.1f} KB  {url.replace(b.server.url, '')}")
        print(f"/display page weight: {total_body / 1024:.1f} KB of bodies, "
              f"{total_wire / 1024:.1f} KB on the wire (budget {BUDGET // 1024} KB)")
        print(f"requests: {len(urls)}, to other hosts: {len(foreign)} {foreign}")
        return 0 if max(total_body, total_wire) < BUDGET and not foreign else 1


if __name__ == "__main__":
    raise SystemExit(main())
