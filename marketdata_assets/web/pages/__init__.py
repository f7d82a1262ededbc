"""The dashboard's pages, registered once: each page is an entry of PAGES, rendered into one
shell (head, header with the nav, the page's markup, the chart library's credits where it draws
charts). The nav is generated from the entries that name a nav label.

Adding a page: an entry here (its path, title, script and, optionally, its markup), its script
under `web/static/`, and its test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path
from string import Template

FOLDER = Path(__file__).parent
CHARTS = "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js"


@cache
def markup(name: str) -> str:
    """A markup file of this folder (a page's body, the shell, the credits)."""
    return (FOLDER / name).read_text()


@dataclass(frozen=True)
class Page:
    """A dashboard page: where it is served, what it is called, the script that fills it."""

    path: str  # its route; a `{symbol}` in it is checked as the API checks a symbol
    title: str  # the tab's title, before " · Market data"
    script: str  # its ES module under web/static/
    nav: str | None = None  # its link text in the nav; None: reached from other pages only
    body: str = '  <main class="stack"></main>\n'  # its markup inside the shell
    charts: bool = False  # draws charts: loads the vendored library and shows its credits


PAGES: tuple[Page, ...] = (
    Page("/", "Latest prices", "latest.js", "Latest", markup("latest.html"), charts=True),
    Page("/quality", "Data quality", "quality.js", "Quality", markup("quality.html")),
    Page("/ticks", "Ticks", "ticks.js", "Ticks", markup("ticks.html")),
    Page("/symbol/{symbol}", "Symbol", "symbol.js", body=markup("symbol.html"), charts=True),
)


def render_message(title: str, message: str, pages: Sequence[Page] = PAGES) -> str:
    """A page that says one thing (`title`, then `message`, both text), in the shell with its
    nav: what an HTML route answers for a page not found or a symbol that breaks the rule."""
    body = (
        f'  <main class="stack message">\n    <h1>{escape(title)}</h1>\n'
        f'    <p>{escape(message)}</p>\n    <p><a href="/">Latest prices</a></p>\n  </main>\n'
    )
    return render(Page("", title, "message.js", body=body), pages)


def render(page: Page, pages: Sequence[Page] = PAGES) -> str:
    """`page` in the shell, its nav listing every page of `pages` that names a nav label."""
    scripts = f'  <script src="{CHARTS}" defer></script>\n' if page.charts else ""
    scripts += f'  <script type="module" src="/static/{escape(page.script)}"></script>\n'
    nav = "".join(
        f'      <a href="{escape(other.path)}">{escape(other.nav)}</a>\n'
        for other in pages
        if other.nav is not None
    )
    return Template(markup("shell.html")).substitute(
        title=escape(page.title),
        scripts=scripts,
        nav=nav,
        body=page.body,
        credits=markup("credits.html") if page.charts else "",
    )
