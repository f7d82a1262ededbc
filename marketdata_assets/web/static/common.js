// Shared by every page: JSON fetches, New York times, numbers, and DOM built with textContent
// only (data never becomes markup).

export const ZONE = "America/New_York";

/** The parsed JSON of a GET; an HTTP error becomes an Error carrying the API's detail. */
export async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : response.statusText;
    throw new Error(`${url}: ${response.status} ${typeof detail === "string" ? detail : JSON.stringify(detail)}`);
  }
  return body;
}

const wallClock = new Intl.DateTimeFormat("en-US", {
  timeZone: ZONE,
  hourCycle: "h23",
  year: "numeric",
  month: "2-digit",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** The New York wall clock of an instant: {year, month, day, hour, minute, second} as strings. */
function parts(date) {
  const out = {};
  for (const part of wallClock.formatToParts(date)) out[part.type] = part.value;
  return out;
}

/** New York's offset from UTC at an instant, in seconds (e.g. -18000 in winter). */
export function nyOffsetSeconds(epochSeconds) {
  const p = parts(new Date(epochSeconds * 1000));
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  return Math.round(wall / 1000 - epochSeconds);
}

/** An ISO instant as seconds since the epoch. */
export function epochSeconds(iso) {
  return Math.floor(Date.parse(iso) / 1000);
}

/** An ISO instant as a chart time: shifted so a chart showing UTC shows New York's wall clock. */
export function chartTime(iso) {
  const t = epochSeconds(iso);
  return t + nyOffsetSeconds(t);
}

/** An ISO instant in New York time, labelled: "2026-11-25 15:00:26 ET" (seconds optional). */
export function nyTime(iso, { seconds = false } = {}) {
  if (!iso) return "–";
  const p = parts(new Date(iso));
  const clock = seconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
  return `${p.year}-${p.month}-${p.day} ${clock} ET`;
}

/** The New York trading day of an instant, "YYYY-MM-DD". */
export function nyDay(iso) {
  const p = parts(new Date(iso));
  return `${p.year}-${p.month}-${p.day}`;
}

/** A number with fixed decimals, or "–" when missing. */
export function num(value, digits = 2) {
  return value === null || value === undefined || Number.isNaN(value) ? "–" : Number(value).toFixed(digits);
}

/** A fraction as a percentage: 0.0123 -> "1.23 %". */
export function pct(value, digits = 2) {
  return value === null || value === undefined ? "–" : `${(value * 100).toFixed(digits)} %`;
}

/** A signed number: "+1.23" / "-0.40". */
export function signed(value, digits = 2) {
  if (value === null || value === undefined) return "–";
  return `${value > 0 ? "+" : ""}${Number(value).toFixed(digits)}`;
}

/** An age in seconds, short: "42 s", "3 min", "2 h 5 min", "3 d". */
export function age(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d`;
}

/** An element with a class and text (textContent: never parsed as markup), and children. */
export function el(tag, { className, text, title } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (title) node.title = title;
  for (const child of children) node.append(child);
  return node;
}

/** A sentence whose `backticked` parts become <code>, all as text nodes. */
export function sentence(text, className = "empty") {
  const p = el("p", { className });
  String(text)
    .split("`")
    .forEach((piece, i) => p.append(i % 2 ? el("code", { text: piece }) : document.createTextNode(piece)));
  return p;
}

/** Replace a container's content with one "what to run" sentence. */
export function showEmpty(container, text) {
  container.replaceChildren(sentence(text));
}

/** Replace a container's content with an error line (a failed API call). */
export function showError(container, error) {
  container.replaceChildren(el("p", { className: "error", text: `could not load: ${error.message}` }));
}

/**
 * Fill a table body from rows. Each column: {key, label, format(row) -> text, numeric, cls(row)}.
 * Returns the body.
 */
export function fillTable(tbody, rows, columns, rowClass) {
  tbody.replaceChildren(
    ...rows.map((row) => {
      const tr = el("tr", { className: rowClass ? rowClass(row) : undefined });
      for (const column of columns) {
        const value = column.format ? column.format(row) : row[column.key];
        const td = el("td", {
          text: value ?? "–",
          className: column.numeric ? "num" : column.wrap ? "wrap" : undefined,
          title: column.hint ? column.hint(row) : undefined,
        });
        if (column.cls) {
          const extra = column.cls(row);
          if (extra) td.classList.add(extra);
        }
        tr.append(td);
      }
      return tr;
    }),
  );
  return tbody;
}

/** A table head of column labels; numeric columns right-aligned. */
export function headRow(thead, columns) {
  thead.replaceChildren(
    el(
      "tr",
      {},
      columns.map((c) => el("th", { text: c.label, className: c.numeric ? "num" : undefined, title: c.title })),
    ),
  );
}

/** Mark the header link of the current page. */
export function markNav() {
  const here = location.pathname.startsWith("/symbol/") ? "/symbol" : location.pathname;
  for (const link of document.querySelectorAll("header nav a")) {
    if (link.getAttribute("href") === here) link.setAttribute("aria-current", "page");
  }
}

/** Options shared by the charts: system font, light theme, the TradingView logo off (see the
 * vendored NOTICE: the footer carries the attribution), times already shifted to New York. */
export function chartOptions(extra = {}) {
  return {
    autoSize: true,
    layout: {
      attributionLogo: false,
      background: { color: "#ffffff" },
      textColor: "#1f2933",
      fontFamily: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    },
    grid: { vertLines: { color: "#eef1f4" }, horzLines: { color: "#eef1f4" } },
    rightPriceScale: { borderColor: "#d5dbe1" },
    timeScale: { borderColor: "#d5dbe1" },
    ...extra,
  };
}

/** The crosshair's label of a chart time (already shifted to New York): "2026-11-25 15:00 ET". */
export function chartTimeLabel(time) {
  if (typeof time === "string") return time;
  if (typeof time === "object") {
    return `${time.year}-${String(time.month).padStart(2, "0")}-${String(time.day).padStart(2, "0")}`;
  }
  return `${new Date(time * 1000).toISOString().slice(0, 16).replace("T", " ")} ET`;
}

/** Wire the header's "open a symbol" form. */
const weekday = new Intl.DateTimeFormat("en-US", { timeZone: ZONE, weekday: "short" });

/** "Fri 16:00 ET": an instant's New York weekday and wall clock. */
export function nyWeekdayTime(iso) {
  const p = parts(new Date(iso));
  return `${weekday.format(new Date(iso))} ${p.hour}:${p.minute} ET`;
}

/** The header's words for GET /api/market: "Market open · closes 16:00 ET", "Market closed ·
 * as of Fri 16:00 ET". */
export function marketText(market) {
  if (market.open) {
    const p = parts(new Date(market.closes_at));
    return `Market open · closes ${p.hour}:${p.minute} ET`;
  }
  return market.last_close ? `Market closed · as of ${nyWeekdayTime(market.last_close)}` : "Market closed";
}

async function showMarket() {
  const box = document.getElementById("market");
  if (!box) return;
  try {
    const market = await getJSON("/api/market");
    box.textContent = marketText(market);
    box.title = market.next_open ? `next open ${nyWeekdayTime(market.next_open)}` : "";
    box.className = market.open ? "market open" : "market closed";
  } catch (error) {
    box.textContent = "Market state unknown";
    box.title = String(error.message ?? error);
  }
}

// The symbol search suggests the known symbols (configured, in the latest table, in history).
async function suggestSymbols() {
  const list = document.getElementById("known-symbols");
  if (!list) return;
  const known = await getJSON("/api/symbols").catch(() => []);
  list.replaceChildren(
    ...known.map((row) => {
      const option = document.createElement("option");
      option.value = row.symbol;
      return option;
    }),
  );
}

export function initHeader() {
  markNav();
  showMarket();
  suggestSymbols();
  setInterval(showMarket, 60_000);
  const form = document.getElementById("goto");
  if (!form) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const symbol = form.elements.symbol.value.trim().toUpperCase();
    if (symbol) location.assign(`/symbol/${encodeURIComponent(symbol)}`);
  });
}

/** The sentence of an empty answer: the API's message, else `fallback`. */
export function emptyMessage(body, fallback) {
  return body && !Array.isArray(body) && body.message ? body.message : fallback;
}

export const NO_TICKS = "no ticks yet: run `marketdata tick`";
