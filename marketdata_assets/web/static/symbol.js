// "/symbol/{SYMBOL}": the quote (price, change, the day's range and volume, as of when), the
// 1-minute closes of the quote's session (else of the newest session held, saying so) with their
// cumulative VWAP and the forecast drawn on them, daily candles with a range selector, the
// missing sessions as gaps and the splits and dividends as markers (each chart with its volume
// pane and OHLCV legend), the session analytics, and the forecast against naive with its origin
// (forecast.js). The daily candles and the analytics are on the basis the page's query asks
// (?adjust=none|splits|all, default splits), which the basis buttons change and re-read.
import { fillTable, getJSON, headRow, initHeader, num, nyDay, nyTime, pct, showEmpty, showError } from "/static/common.js";
import { drawDaily, missingNote } from "/static/daily.js";
import { initForecast, loadForecast } from "/static/forecast.js";
import { drawIntraday } from "/static/intraday.js";
import { showQuote } from "/static/quote.js";

const SYMBOL = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "").toUpperCase();
const API = (what) => `/api/${what}/${encodeURIComponent(SYMBOL)}`;
// "All" daily candles: every session held (the calendar reaches 20 years back).
const ALL_FROM = "2010-01-04"; // the first session the history holds (earlier is refused)
// The prices' bases (GET /api/bars?adjust=), as the legend names them; the default first.
const BASES = {
  splits: "split-adjusted: prices before each split divided by its ratio, volumes multiplied",
  none: "as traded: no adjustment",
  all: "adjusted for splits and dividends: a total-return series",
};
const DEFAULT_BASIS = "splits";
let basis = DEFAULT_BASIS; // the basis shown (the query's, once read)
let daily = null; // the daily chart once drawn: {missing, show(bars, basis)}
let asked = 0; // the newest basis read asked for (an older answer is dropped)
let dailyLoaded = Promise.resolve(); // the first daily read and draw (a basis chosen waits for it)
// The page's one backfill hint (GET /api/backfill: the sessions every panel reads, the forecast's
// included), shown by every panel that is empty for want of history.
let pageHint = `no history for ${SYMBOL} yet`;
let historyHeld = null; // whether the analytics answer held rows, once it came
let quoted = null; // the quote, once loaded (the forecast compares its origin with its session)

function replaceWithEmpty(chartId, text) {
  const holder = document.getElementById(chartId);
  holder.classList.remove("chart");
  showEmpty(holder, text);
  for (const id of chartId === "intraday-chart" ? ["intraday-ohlcv", "intraday-keys"] : ["daily-ohlcv", "daily-keys"]) {
    document.getElementById(id).hidden = true;
  }
}

const rowsOf = (body) => (Array.isArray(body) ? body : body && Array.isArray(body.rows) ? body.rows : []);

/** The intraday chart: the quote's session when its minute bars are held, else the newest session
 * held, with a note naming the session shown when it is not the quote's. Always as traded
 * (?adjust=none), whatever the daily chart's basis: one session's minutes share one basis, and
 * the quote above it is a traded price (a split after the session would otherwise divide them). */
async function loadIntraday(quote) {
  const session = quote && quote.day_source === "minute_bars" ? quote.session : null;
  const range = session ? `&from=${session}&to=${session}` : "";
  const bars = rowsOf(await getJSON(`${API("bars")}?interval=1m&adjust=none${range}`));
  if (bars.length === 0) {
    replaceWithEmpty("intraday-chart", pageHint);
    return;
  }
  const first = bars[0].start;
  document.getElementById("session-note").textContent =
    `session ${nyDay(first)}: ${bars.length} one-minute bars, ${nyTime(first)} to ${nyTime(bars[bars.length - 1].start)}, as traded`;
  drawIntraday(document.getElementById("intraday-chart"), document.getElementById("intraday-ohlcv"), bars);
  if (quote && quote.session && nyDay(first) !== quote.session) {
    const note = document.getElementById("intraday-note");
    note.textContent = `showing ${nyDay(first)}, the newest session held (the quote is of ${quote.session})`;
    note.hidden = false;
  }
}

/** The daily chart of every session held, with the NYSE sessions between its first and last that
 * the history lacks as gaps. */
async function loadDaily() {
  const [body, actions] = await Promise.all([getJSON(dailyURL(basis)), getJSON(API("actions"))]);
  const bars = rowsOf(body);
  if (bars.length === 0) {
    // Not the API's sentence: it would name the first day asked for (ALL_FROM), not a useful range.
    replaceWithEmpty("daily-chart", pageHint);
    document.getElementById("ranges").hidden = true;
    document.getElementById("bases").hidden = true;
    return;
  }
  const span = `from=${nyDay(bars[0].start)}&to=${nyDay(bars[bars.length - 1].start)}`;
  const calendar = await getJSON(`/api/calendar?${span}`);
  daily = drawDaily(
    document.getElementById("daily-chart"),
    document.getElementById("daily-ohlcv"),
    bars,
    calendar.sessions,
    rowsOf(actions),
    basis,
  );
  const { missing } = daily;
  const note = document.getElementById("daily-note");
  note.textContent = missingNote(SYMBOL, missing);
  note.hidden = missing.length === 0;
}

const dailyURL = (chosen) => `${API("bars")}?interval=1d&from=${ALL_FROM}&adjust=${chosen}`;

/** The basis the address asks (?adjust=), else the default (an unknown one is dropped from it). */
function askedBasis() {
  const query = new URLSearchParams(location.search);
  const named = query.get("adjust");
  if (named !== null && !Object.hasOwn(BASES, named)) {
    query.delete("adjust");
    history.replaceState(null, "", `${location.pathname}${query.toString() ? `?${query}` : ""}`);
  }
  return named !== null && Object.hasOwn(BASES, named) ? named : DEFAULT_BASIS;
}

/** Show `chosen` as the basis: its button pressed and its words in the daily chart's legend. */
function markBasis(chosen) {
  for (const button of document.querySelectorAll("#bases button")) {
    button.setAttribute("aria-pressed", String(button.dataset.adjust === chosen));
  }
  document.getElementById("daily-basis").textContent = `Prices ${BASES[chosen]}.`;
}

/** The basis buttons: each keeps its basis in the address and re-reads the daily bars and the
 * analytics on it. */
function initBases() {
  for (const button of document.querySelectorAll("#bases button")) {
    button.addEventListener("click", () => chooseBasis(button.dataset.adjust));
  }
}

async function chooseBasis(chosen) {
  basis = chosen;
  markBasis(chosen);
  const query = new URLSearchParams(location.search);
  query.set("adjust", chosen);
  history.replaceState(null, "", `${location.pathname}?${query}`);
  const mine = ++asked;
  try {
    await dailyLoaded;
    const [bars, rows] = await Promise.all([getJSON(dailyURL(chosen)), getJSON(analyticsURL(chosen))]);
    if (mine !== asked) return; // another basis was chosen since
    if (daily && rowsOf(bars).length) daily.show(rowsOf(bars), chosen);
    showAnalytics(rows);
    // For tests: the chart and the analytics are on this basis once this is set.
    document.body.dataset.basis = chosen;
  } catch (error) {
    if (mine === asked) showError(document.getElementById("daily-chart"), error);
  }
}

const analyticsURL = (chosen) => `${API("analytics")}?adjust=${chosen}`;

const ANALYTICS = [
  { key: "session", label: "Session" },
  { key: "open", label: "Open", numeric: true, format: (r) => num(r.open) },
  { key: "high", label: "High", numeric: true, format: (r) => num(r.high) },
  { key: "low", label: "Low", numeric: true, format: (r) => num(r.low) },
  { key: "close", label: "Close", numeric: true, format: (r) => num(r.close) },
  { key: "volume", label: "Volume", numeric: true, format: (r) => (r.volume ?? 0).toLocaleString("en-US") },
  { key: "vwap", label: "VWAP", numeric: true, format: (r) => num(r.vwap) },
  { key: "return", label: "Return", numeric: true, format: (r) => pct(r.return) },
  { key: "overnight_return", label: "Overnight", numeric: true, format: (r) => pct(r.overnight_return) },
  { key: "realized_vol", label: "Realised vol", numeric: true, format: (r) => pct(r.realized_vol), title: "from 5-minute returns" },
  { key: "range", label: "Range", numeric: true, format: (r) => pct(r.range), title: "(high - low) / close" },
];

function showAnalytics(rows) {
  const holder = document.getElementById("analytics");
  if (!Array.isArray(rows) || rows.length === 0) {
    showEmpty(holder, pageHint);
    return;
  }
  const table = document.getElementById("analytics-table");
  if (!table) return; // an empty answer stands in its place
  headRow(table.tHead, ANALYTICS);
  fillTable(table.tBodies[0], [...rows].reverse(), ANALYTICS);
}

async function main() {
  initHeader();
  document.title = `${SYMBOL} · Market data`;
  document.getElementById("symbol-title").textContent = SYMBOL;
  basis = askedBasis();
  markBasis(basis);
  initBases();
  initForecast({ symbol: SYMBOL, api: API, quote: () => quoted, hint: () => (historyHeld === false ? pageHint : null) });
  const rows = getJSON(analyticsURL(basis));
  // Every panel waits for the page's backfill: when it is empty, that is what it says to run.
  const hinted = getJSON(`/api/backfill?symbol=${encodeURIComponent(SYMBOL)}`)
    .then((body) => (pageHint = `no history for ${SYMBOL} yet: run \`${body.command}\``))
    .catch(() => {});
  const quote = getJSON(API("quote"))
    .then((body) => {
      quoted = body;
      showQuote(body);
      return body;
    })
    .catch((error) => {
      showError(document.getElementById("quote"), error);
      return null;
    });
  const intraday = Promise.all([quote, hinted])
    .then(([body]) => loadIntraday(body))
    .catch((error) => showError(document.getElementById("intraday-chart"), error));
  const candles = hinted.then(loadDaily).catch((error) => showError(document.getElementById("daily-chart"), error));
  dailyLoaded = candles;
  const analytics = Promise.all([rows, hinted])
    .then(([body]) => {
      historyHeld = Array.isArray(body) && body.length > 0;
      showAnalytics(body);
    })
    .catch((error) => showError(document.getElementById("analytics"), error));
  await Promise.all([intraday, candles, analytics]);
  // For tests and timings: the charts (or their empty states) are painted once this is set.
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      document.body.dataset.basis = basis;
      document.body.dataset.ready = "charts";
    }),
  );
  loadForecast();
}

main();
