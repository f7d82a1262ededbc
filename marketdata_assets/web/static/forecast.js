// The symbol page's forecast panel: the served forecast against naive for the horizon chosen,
// with its origin, its verdict in words, the skill of every model, a warning when it is older
// than the newest session held or than the quote's session; and the forecast drawn on the
// intraday chart (`intraday.drawForecast`).
import { el, fillTable, getJSON, headRow, num, nyTime, pct, sentence, showEmpty, showError } from "/static/common.js";
import { drawForecast } from "/static/intraday.js";

// What a forecast is for: minute horizons count trading minutes (from a close, into the next session).
const TARGET = {
  "1m": "1 minute of trading later",
  "5m": "5 minutes of trading later",
  "15m": "15 minutes of trading later",
  "1d": "the next session's close",
};

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
// The page's: its symbol, its API paths, its quote once loaded, and its backfill hint while its
// history panels are empty (null once they show history).
let page = { symbol: "", api: (what) => what, quote: () => null, hint: () => null };

/** Show the forecast of `horizon` (default: the one chosen last), asked once per horizon. */
export async function loadForecast(horizon = wanted) {
  wanted = horizon;
  const holder = document.getElementById("forecast");
  if (!forecasts.has(horizon)) {
    holder.replaceChildren(el("p", { className: "meta", text: `evaluating every model against naive for ${TARGET[horizon]}…` }));
    forecasts.set(horizon, getJSON(`${page.api("forecast")}?horizon=${horizon}`));
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
    drawForecast(null);
    // Without history, the page's one backfill (the panels' own ranges would differ).
    showEmpty(holder, page.hint() ?? (body.message || body.reason));
    return;
  }
  drawForecast(body);
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
      `run \`marketdata forecast ${page.symbol} --horizon ${horizon} --refresh\``
    );
  }
  const quoted = page.quote();
  if (quoted && quoted.session && body.as_of < quoted.session) {
    return `this forecast is of ${body.as_of}, older than the quote's session (${quoted.session})`;
  }
  return null;
}

/** Wire the horizon buttons for `context` ({symbol, api(what), quote(), hint()}). */
export function initForecast(context) {
  page = context;
  const buttons = document.querySelectorAll("#horizons button");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      loadForecast(button.dataset.horizon);
    });
  }
}

