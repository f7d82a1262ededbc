// "/symbol/{SYMBOL}": the quote (price, change, the day's range and volume, as of when), the
// 1-minute closes of the quote's session (else of the newest session held, saying so) with their
// cumulative VWAP, daily candles with a range selector, the session analytics, and the forecast
// against naive with its origin (a warning when it is older than the newest session).
import {
  chartOptions,
  chartTime,
  chartTimeLabel,
  el,
  emptyMessage,
  fillTable,
  getJSON,
  headRow,
  initHeader,
  num,
  nyDay,
  nyTime,
  pct,
  sentence,
  showEmpty,
  showError,
} from "/static/common.js";
import { showQuote } from "/static/quote.js";

const SYMBOL = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "").toUpperCase();
const API = (what) => `/api/${what}/${encodeURIComponent(SYMBOL)}`;
// "All" daily candles: every session held (the calendar reaches 20 years back).
const ALL_FROM = "2010-01-04"; // the first session the history holds (earlier is refused)
// What a forecast is for: minute horizons count trading minutes (from a close, into the next session).
const TARGET = {
  "1m": "1 minute of trading later",
  "5m": "5 minutes of trading later",
  "15m": "15 minutes of trading later",
  "1d": "the next session's close",
};

// The page's one backfill hint: the server's sentence for the analytics read (its recent sessions,
// a range `backfill` accepts), shown by every history panel that is empty.
let pageHint = `no history for ${SYMBOL} yet`;

function replaceWithEmpty(chartId, text) {
  const holder = document.getElementById(chartId);
  holder.classList.remove("chart");
  showEmpty(holder, text);
}

/** Cumulative VWAP over the session: Σ typical × volume / Σ volume, typical = (H + L + C) / 3. */
function cumulativeVwap(bars) {
  let value = 0;
  let volume = 0;
  const out = [];
  for (const bar of bars) {
    if (bar.volume > 0 && bar.high !== null && bar.low !== null && bar.close !== null) {
      value += ((bar.high + bar.low + bar.close) / 3) * bar.volume;
      volume += bar.volume;
    }
    if (volume > 0) out.push({ time: chartTime(bar.start), value: value / volume });
  }
  return out;
}

/** The intraday chart: the quote's session when its minute bars are held, else the newest session
 * held, with a note naming the session shown when it is not the quote's. */
async function loadIntraday(quote) {
  const session = quote && quote.day_source === "minute_bars" ? quote.session : null;
  const range = session ? `&from=${session}&to=${session}` : "";
  const bars = await getJSON(`${API("bars")}?interval=1m${range}`);
  drawIntraday(bars);
  if (quote && quote.session && Array.isArray(bars) && bars.length > 0) {
    const shown = nyDay(bars[0].start);
    if (shown !== quote.session) {
      const note = document.getElementById("intraday-note");
      note.textContent = `showing ${shown}, the newest session held (the quote is of ${quote.session})`;
      note.hidden = false;
    }
  }
}

function drawIntraday(bars) {
  if (!Array.isArray(bars) || bars.length === 0) {
    replaceWithEmpty("intraday-chart", pageHint);
    return;
  }
  const first = bars[0].start;
  document.getElementById("session-note").textContent =
    `session ${nyDay(first)}: ${bars.length} one-minute bars, ${nyTime(first)} to ${nyTime(bars[bars.length - 1].start)}`;
  const chart = LightweightCharts.createChart(
    document.getElementById("intraday-chart"),
    chartOptions({
      localization: { timeFormatter: chartTimeLabel },
      timeScale: { borderColor: "#d5dbe1", timeVisible: true, secondsVisible: false },
    }),
  );
  const close = chart.addSeries(LightweightCharts.LineSeries, {
    color: "#1d4ed8",
    lineWidth: 2,
    title: "close",
    priceLineVisible: false,
  });
  close.setData(bars.filter((b) => b.close !== null).map((b) => ({ time: chartTime(b.start), value: b.close })));
  const vwap = chart.addSeries(LightweightCharts.LineSeries, {
    color: "#d97706",
    lineWidth: 2,
    title: "VWAP",
    priceLineVisible: false,
  });
  vwap.setData(cumulativeVwap(bars));
  chart.timeScale().fitContent();
}

function drawDaily(bars) {
  if (!Array.isArray(bars) || bars.length === 0) {
    // Not the API's sentence: it would name the first day asked for (ALL_FROM), not a useful range.
    replaceWithEmpty("daily-chart", pageHint);
    document.getElementById("ranges").hidden = true;
    return;
  }
  const candles = bars
    .filter((b) => b.open !== null && b.high !== null && b.low !== null && b.close !== null)
    .map((b) => ({ time: nyDay(b.start), open: b.open, high: b.high, low: b.low, close: b.close }));
  const chart = LightweightCharts.createChart(
    document.getElementById("daily-chart"),
    chartOptions({ localization: { timeFormatter: chartTimeLabel } }),
  );
  const series = chart.addSeries(LightweightCharts.CandlestickSeries, {
    upColor: "#047857",
    downColor: "#b91c1c",
    borderVisible: false,
    wickUpColor: "#047857",
    wickDownColor: "#b91c1c",
    priceLineVisible: false,
  });
  series.setData(candles);
  chart.timeScale().fitContent();
  const buttons = document.querySelectorAll("#ranges button");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      const months = Number(button.dataset.months);
      if (!months) {
        chart.timeScale().fitContent();
        return;
      }
      const last = new Date(`${candles[candles.length - 1].time}T00:00:00Z`);
      last.setUTCMonth(last.getUTCMonth() - months);
      const cutoff = last.toISOString().slice(0, 10);
      const firstIndex = Math.max(0, candles.findIndex((c) => c.time > cutoff));
      chart.timeScale().setVisibleLogicalRange({ from: firstIndex - 0.5, to: candles.length - 0.5 });
    });
  }
}

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
  { key: "range", label: "Range", numeric: true, format: (r) => pct(r.range), title: "(high - low) / open" },
];

function showAnalytics(rows) {
  const holder = document.getElementById("analytics");
  if (!Array.isArray(rows) || rows.length === 0) {
    showEmpty(holder, pageHint);
    return;
  }
  const table = document.getElementById("analytics-table");
  headRow(table.tHead, ANALYTICS);
  fillTable(table.tBodies[0], [...rows].reverse(), ANALYTICS);
}

const SKILL = [
  { key: "model", label: "Model" },
  { key: "served", label: "Served", format: (r) => (r.served ? "served" : "") },
  { key: "mae", label: "MAE", numeric: true, format: (r) => num(r.mae, 4), title: "mean absolute error, dollars" },
  { key: "rmse", label: "RMSE", numeric: true, format: (r) => num(r.rmse, 4) },
  { key: "mase", label: "MASE", numeric: true, format: (r) => num(r.mase, 2) },
  { key: "relative_mae", label: "Rel. MAE", numeric: true, format: (r) => num(r.relative_mae, 4), title: "MAE / naive's MAE" },
  {
    key: "skill",
    label: "Skill",
    numeric: true,
    format: (r) => (r.relative_mae === null ? "–" : pct(1 - r.relative_mae, 1)),
    title: "1 - relative MAE: positive beats naive",
  },
  {
    key: "directional_accuracy",
    label: "Direction ± SE",
    numeric: true,
    format: (r) =>
      r.directional_accuracy === null || r.directional_accuracy === undefined
        ? "–"
        : `${pct(r.directional_accuracy, 1)} ± ${pct(r.directional_accuracy_se, 1)}`,
  },
  {
    key: "dm_pvalue",
    label: "DM p",
    numeric: true,
    format: (r) => (r.dm_pvalue === null || r.dm_pvalue === undefined ? "–" : r.dm_pvalue < 0.001 ? "<0.001" : num(r.dm_pvalue, 3)),
    title: "two-sided Diebold-Mariano p-value against naive",
  },
  { key: "coverage", label: "Coverage", numeric: true, format: (r) => pct(r.coverage, 1), title: "share of actuals inside the 80 % interval" },
];

const forecasts = new Map();
let wanted = "5m";
let quoted = null; // the quote, once loaded (the forecast compares its origin with its session)

async function loadForecast(horizon) {
  wanted = horizon;
  const holder = document.getElementById("forecast");
  if (!forecasts.has(horizon)) {
    holder.replaceChildren(el("p", { className: "meta", text: `evaluating every model against naive for ${TARGET[horizon]}…` }));
    forecasts.set(horizon, getJSON(`${API("forecast")}?horizon=${horizon}`));
  }
  try {
    const body = await forecasts.get(horizon);
    if (wanted === horizon) showForecast(body, horizon);
  } catch (error) {
    forecasts.delete(horizon);
    if (wanted === horizon) showError(holder, error);
  }
}

function showForecast(body, horizon) {
  const holder = document.getElementById("forecast");
  if (!body.served_model) {
    showEmpty(holder, body.message || body.reason || pageHint);
    return;
  }
  const parts = [];
  if (body.verdict) parts.push(el("p", { className: "verdict", text: body.verdict }));
  if (body.reason && body.reason !== body.verdict) parts.push(el("p", { className: "meta", text: `why: ${body.reason}` }));
  parts.push(
    el("p", {
      className: "forecast-line",
      text:
        `${body.served_model} forecast made at ${nyTime(body.origin)} for ${TARGET[horizon]}: ` +
        `${num(body.forecast, 4)} (80 % interval ${num(body.lower, 4)} to ${num(body.upper, 4)})`,
    }),
  );
  parts.push(
    el("p", {
      className: "meta forecast-origin",
      text: `origin ${nyTime(body.origin)}, from the session ${body.as_of} (newest session held: ${body.newest_session ?? "none"})`,
    }),
  );
  const warning = forecastWarning(body, horizon);
  if (warning) parts.push(sentence(warning, "warning"));
  const table = el("table", { className: "data" }, [el("thead"), el("tbody")]);
  headRow(table.tHead, SKILL);
  const rows = (body.skill || []).map((r) => ({ ...r, served: r.model === body.served_model }));
  fillTable(table.tBodies[0], rows, SKILL, (r) => (r.served ? "served" : ""));
  parts.push(table);
  parts.push(
    el("p", {
      className: "note",
      text:
        "Skill = 1 - relative MAE against naive on the same walk-forward forecasts; a model is served only when it " +
        "beats naive by more than chance (adjusted one-sided Diebold-Mariano p < 0.05, at least 50 forecasts).",
    }),
  );
  holder.replaceChildren(...parts);
}

/** What is out of date about a served forecast: its session is older than the newest session
 * held (a refresh forecasts from it), or than the quote's session; null when neither. */
function forecastWarning(body, horizon) {
  if (body.newest_session && body.as_of < body.newest_session) {
    return (
      `this forecast is of ${body.as_of}, older than the newest session held (${body.newest_session}): ` +
      `run \`marketdata forecast ${SYMBOL} --horizon ${horizon} --refresh\``
    );
  }
  if (quoted && quoted.session && body.as_of < quoted.session) {
    return `this forecast is of ${body.as_of}, older than the quote's session (${quoted.session})`;
  }
  return null;
}

function initHorizons() {
  const buttons = document.querySelectorAll("#horizons button");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      loadForecast(button.dataset.horizon);
    });
  }
}

async function main() {
  initHeader();
  document.title = `${SYMBOL} · Market data`;
  document.getElementById("symbol-title").textContent = SYMBOL;
  initHorizons();
  const rows = getJSON(API("analytics"));
  // Every panel waits for the analytics answer: when it is empty, its message is the page's hint.
  const hinted = rows.then((body) => (pageHint = emptyMessage(body, pageHint))).catch(() => {});
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
  const daily = Promise.all([getJSON(`${API("bars")}?interval=1d&from=${ALL_FROM}`), hinted])
    .then(([bars]) => drawDaily(bars))
    .catch((error) => showError(document.getElementById("daily-chart"), error));
  const analytics = Promise.all([rows, hinted])
    .then(([body]) => showAnalytics(body))
    .catch((error) => showError(document.getElementById("analytics"), error));
  await Promise.all([intraday, daily, analytics]);
  // For tests and timings: the charts (or their empty states) are painted once this is set.
  requestAnimationFrame(() => requestAnimationFrame(() => (document.body.dataset.ready = "charts")));
  loadForecast(wanted);
}

main();
