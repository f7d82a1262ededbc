// "/ticks": the recent ticks and their outcomes, newest first.
import { NO_TICKS, el, emptyMessage, fillTable, getJSON, headRow, initHeader, nyTime, showEmpty, showError } from "/static/common.js";

const LIMIT = 100;

function checks(tick) {
  if (!Array.isArray(tick.checks)) return "–";
  const failed = tick.checks.filter((c) => !c.passed);
  return `${tick.checks.length - failed.length} passed, ${failed.length} failed`;
}

const COLUMNS = [
  { key: "tick", label: "Tick (ET)", format: (t) => nyTime(t.tick) },
  { key: "utc", label: "Tick (UTC)", format: (t) => t.tick },
  { key: "outcome", label: "Outcome", cls: (t) => (t.outcome === "succeeded" ? "" : "stale-tag") },
  { key: "raw", label: "Raw", numeric: true },
  { key: "validated", label: "Validated", numeric: true },
  { key: "quarantined", label: "Quarantined", numeric: true },
  { key: "provider_errors", label: "Provider errors", numeric: true },
  { key: "checks", label: "Checks", format: checks },
  {
    key: "reasons",
    label: "Reasons",
    wrap: true,
    format: (t) =>
      Object.entries(t.reasons || {})
        .map(([code, n]) => `${code} ${n}`)
        .join(", ") || "–",
  },
  { key: "duration_ms", label: "Duration", numeric: true, format: (t) => (t.duration_ms == null ? "–" : `${t.duration_ms} ms`) },
];

async function main() {
  initHeader();
  const holder = document.getElementById("ticks");
  let ticks;
  try {
    ticks = await getJSON(`/api/ticks?limit=${LIMIT}`);
  } catch (error) {
    showError(holder, error);
    return;
  }
  if (!Array.isArray(ticks) || ticks.length === 0) {
    showEmpty(holder, emptyMessage(ticks, NO_TICKS));
    return;
  }
  const failed = ticks.filter((t) => t.outcome !== "succeeded").length;
  document.getElementById("ticks-note").textContent =
    `${ticks.length} most recent ticks, ${failed} not succeeded; quarantined rows are on the Quality page`;
  const table = el("table", { className: "data" }, [el("thead"), el("tbody")]);
  headRow(table.tHead, COLUMNS);
  fillTable(table.tBodies[0], ticks, COLUMNS, (t) => (t.outcome === "succeeded" ? "" : "bad"));
  // A tick with quarantined rows links to them.
  ticks.forEach((tick, i) => {
    if (!(tick.quarantined > 0)) return;
    const cell = table.tBodies[0].rows[i].cells[5];
    const link = el("a", { text: String(tick.quarantined) });
    link.href = `/quality?tick=${encodeURIComponent(tick.tick)}`;
    cell.replaceChildren(link);
  });
  holder.replaceChildren(table);
}

main();
