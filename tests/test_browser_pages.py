"""Every page of the portal and the admin, walked in Chromium as each role sees it.

The pages come from ``tests/pages.py``: one entry per URL pattern found by walking the
resolver. The walk fails on a pattern with no entry, on a page it cannot reach, on a page that
scrolls sideways (admin and portal pages at 1280 px; portal and public pages at 360 px too),
and on any violation of axe-core's WCAG 2.1 A and AA rules, on the portal's and the public's
pages in Latvian and English in their empty, filled and error states and on the admin pages
that reviewers and coordinators use.

One browser, one live server and one world (the demo) serve the whole walk: it runs as one
test, which lists every fault it finds before it fails.
"""

import os
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from .pages import PAGES, build_world, url_patterns, visits

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
DESK, PHONE = 1280, 360
#: A folder to keep a screenshot of every page at every width in, to look at them.
SCREENSHOTS = os.environ.get("PAGES_SCREENSHOTS")


def test_every_url_pattern_has_an_entry_in_the_page_table():
    found = {name for name, _route in url_patterns()}
    assert sorted(found - set(PAGES)) == [], "add these patterns to tests/pages.py"
    assert sorted(set(PAGES) - found) == [], "these entries of tests/pages.py name no pattern"


def overflow(page) -> int:
    """How far the document is wider than the window it is shown in, in CSS pixels."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def boxes_scrolling_sideways(page) -> list[str]:
    """Boxes inside the page that scroll sideways (a table in a scrolling box): what does not
    fit is as hidden there as off the page."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(el => {
            const style = getComputedStyle(el);
            return ['auto', 'scroll'].includes(style.overflowX)
              && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0;
          }).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + (typeof el.className === 'string' && el.className
               ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
            + ' ' + el.scrollWidth + '>' + el.clientWidth)"""
    )


def wide_elements(page) -> list[str]:
    """The elements that reach past the right edge: where to look when a page is too wide."""
    return page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const out = [];
          for (const el of document.querySelectorAll('body *')) {
            const box = el.getBoundingClientRect();
            if (box.right > width + 1 && box.width > 0) {
              out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                (el.className && typeof el.className === 'string'
                  ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
                ' ' + Math.round(box.right));
            }
          }
          return out.slice(0, 5);
        }"""
    )


def signed_in(browser, live_server, user):
    """A browser context of its own for each user, logged in through a session cookie."""
    context = browser.new_context(locale="lv-LV", timezone_id="Europe/Riga")
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
    return context


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_every_page_fits_and_passes_axe_in_every_state(live_server, browser):
    world = build_world()
    axe = Axe()
    tabs, errors = {}, []
    faults = {"not reached": [], "too wide": [], "axe": [], "javascript": []}
    for name, entry in PAGES.items():
        for visit in visits(entry):
            if visit.user not in tabs:
                user = world.users[visit.user] if visit.user else None
                tabs[visit.user] = signed_in(browser, live_server, user).new_page()
                tabs[visit.user].on("pageerror", lambda error: errors.append(str(error)))
            page = tabs[visit.user]
            for language in ["lv"] if visit.admin else ["lv", "en"]:
                path = visit.path(world)
                path = path if language == "lv" else f"/en{path}"
                where = f"{name} {path} [{language}, {visit.user or 'public'}, {visit.state}]"
                page.set_viewport_size({"width": DESK, "height": 900})
                response = page.goto(live_server.url + path)
                arrived = urlsplit(page.url)
                if response.status != 200 or arrived.path != urlsplit(path).path:
                    faults["not reached"].append(f"{where}: {response.status} at {page.url}")
                    continue
                if visit.then is not None:
                    visit.then(page)
                for width in [DESK] if visit.admin else [DESK, PHONE]:
                    page.set_viewport_size({"width": width, "height": 900})
                    if (extra := overflow(page)) > 0:
                        faults["too wide"].append(
                            f"{where} at {width} px: {extra} px too wide; {wide_elements(page)}"
                        )
                    if boxes := boxes_scrolling_sideways(page):
                        faults["too wide"].append(f"{where} at {width} px: scrolls in {boxes}")
                    if SCREENSHOTS:
                        page.screenshot(
                            path=f"{SCREENSHOTS}/{name.replace(':', '-')}-{visit.user}-"
                            f"{visit.state}-{language}-{width}-{path.count('/')}.png",
                            full_page=True,
                        )
                page.set_viewport_size({"width": DESK, "height": 900})
                for violation in axe.run(page, options=AXE_OPTIONS).response["violations"]:
                    targets = [node["target"] for node in violation["nodes"][:3]]
                    faults["axe"].append(
                        f"{where}: {violation['id']}: {violation['help']} {targets}"
                    )
                if errors:
                    faults["javascript"].append(f"{where}: {errors}")
                    errors.clear()
    report = "\n".join(
        f"{kind} ({len(found)}):\n  " + "\n  ".join(found)
        for kind, found in faults.items()
        if found
    )
    assert not report, report
