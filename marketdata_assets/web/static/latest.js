// "/": the latest price of every symbol (sortable, refreshed every minute), the last tick and the
// quarantine share of the recent ticks.
import {
  NO_TICKS,
  age,
  chartOptions,
  chartTime,
  chartTimeLabel,
  el,
  emptyMessage,
  fillTable,
  getJSON,
  initHeader,
  num,
  nyTime,
  sentence,
  showEmpty,
  showError,
  signed,
} from "/static/common.js";

const REFRESH_MS = 60_000;
const RECENT_TICKS = 60;

const COLUMNS = [
  { key: "symbol", label: "Symbol" },
  { key: "price", label: "Price", numeric: true, format: (r) => num(r.price, 2) },
  { key: "currency", label: "Ccy" },
  { key: "change", label: "Change", numeric: true, format: (r) => signed(r.change, 2), cls: direction("change"), hint: basis },
  {
    key: "change_pct",
    label: "Change %",
    numeric: true,
    format: (r) => (r.change_pct === null || r.change_pct === undefined ? "–" : `${signed(r.change_pct, 2)} %`),
    cls: direction("change_pct"),
    hint: basis,
  },
  { key: "event_ts", label: "Event time (ET)", format: (r) => nyTime(r.event_ts, { seconds: true }) },
  { key: "age_s", label: "Age", numeric: true, format: (r) => age(r.age_s) },
  {
    key: "status",
    label: "Status",
    format: (r) => r.status,
    cls: (r) => (r.stale ? "stale-tag" : ""),
    hint: (r) => STATUS[r.status],
  },
];

const STATUS = {
  current: "written by the last tick, while the market trades",
  stale: "older than the last tick: the last tick did not refresh it",
  closed: "the market is closed: the price is the last one seen",
};

// What a change is measured against, or why there is none (shown on hover).
function basis(row) {
  if (!row.change_basis) return row.change_note ?? undefined;
  // On a split's ex-date the close is split-adjusted (divided by the ratio).
  const split = row.previous_close_split ? `, split-adjusted (÷ ${row.previous_close_split}, this session's split)` : "";
  return `against the close of ${row.change_basis}${split}`;
}

function direction(key) {
  return (row) => (row[key] > 0 ? "up" : row[key] < 0 ? "down" : "");
}

const state = { rows: [], sortKey: "symbol", ascending: true };

function compare(a, b) {
  const x = a[state.sortKey];
  const y = b[state.sortKey];
  if (x === y) return a.symbol < b.symbol ? -1 : 1;
  if (x === null || x === undefined) return 1; // missing values last, whatever the direction
  if (y === null || y === undefined) return -1;
  const order = x < y ? -1 : 1;
  return state.ascending ? order : -order;
}

function header(thead) {
  const row = el("tr");
  for (const column of COLUMNS) {
    const button = el("button", { text: column.label, className: "sort" });
    button.type = "button";
    button.addEventListener("click", () => {
      state.ascending = state.sortKey === column.key ? !state.ascending : true;
      state.sortKey = column.key;
      renderRows();
    });
    const th = el("th", { className: column.numeric ? "num" : undefined }, [button]);
    th.dataset.key = column.key;
    row.append(th);
  }
  thead.replaceChildren(row);
}

function renderRows() {
  const table = document.getElementById("latest-table");
  for (const th of table.tHead.querySelectorAll("th")) {
    const sorted = th.dataset.key === state.sortKey;
    th.setAttribute("aria-sort", sorted ? (state.ascending ? "ascending" : "descending") : "none");
  }
  const rows = [...state.rows].sort(compare);
  const tbody = fillTable(table.tBodies[0], rows, COLUMNS, (r) => (r.stale ? "stale" : ""));
  // The symbol cell links to its page (text only: the href is built from the encoded symbol).
  rows.forEach((row, i) => {
    const cell = tbody.rows[i].cells[0];
    const link = el("a", { text: row.symbol });
    link.href = `/symbol/${encodeURIComponent(row.symbol)}`;
    cell.replaceChildren(link);
  });
}

function renderLatest(body) {
  const container = document.getElementById("latest");
  const table = document.getElementById("latest-table");
  container.querySelector("p.empty")?.remove();
  const empty = !Array.isArray(body) || body.length === 0;
  document.getElementById("latest-note").hidden = empty;
  if (empty) {
    table.hidden = true;
    container.append(sentence(emptyMessage(body, NO_TICKS)));
    return;
  }
  table.hidden = false;
  state.rows = body;
  renderRows();
}

function checkCounts(tick) {
  if (!Array.isArray(tick.checks)) return "not recorded";
  const passed = tick.checks.filter((c) => c.passed).length;
  return `${passed} passed, ${tick.checks.length - passed} failed`;
}

function renderLastTick(ticks) {
  const box = document.getElementById("last-tick");
  if (!Array.isArray(ticks) || ticks.length === 0) {
    showEmpty(box, emptyMessage(ticks, NO_TICKS));
    return;
  }
  const t = ticks[0];
  const failed = Array.isArray(t.checks) ? t.checks.filter((c) => !c.passed) : [];
  const facts = [
    ["Minute", `${nyTime(t.tick)} (${t.tick})`],
    ["Outcome", t.outcome ?? "–"],
    ["Raw", t.raw ?? "–"],
    ["Validated", t.validated ?? "–"],
    ["Quarantined", t.quarantined ?? "–"],
    ["Checks", checkCounts(t)],
    ["Provider errors", t.provider_errors ?? "–"],
  ];
  if (t.duration_ms !== null && t.duration_ms !== undefined) facts.push(["Duration", `${t.duration_ms} ms`]);
  const dl = el("dl", { className: "facts" });
  for (const [name, value] of facts) dl.append(el("dt", { text: name }), el("dd", { text: value }));
  box.replaceChildren(dl);
  if (t.outcome && t.outcome !== "succeeded") box.classList.add("bad");
  if (failed.length) {
    box.append(el("p", { className: "meta", text: `failed: ${failed.map((c) => `${c.asset}.${c.check}`).join(", ")}` }));
  }
  if (t.reasons && Object.keys(t.reasons).length) {
    const reasons = Object.entries(t.reasons).map(([code, n]) => `${code} ${n}`).join(", ");
    box.append(el("p", { className: "meta", text: `reasons: ${reasons}` }));
  }
}

let shareChart = null;
let shareSeries = null;

function renderShare(ticks) {
  const holder = document.getElementById("share-chart");
  const note = document.getElementById("share-note");
  const points = (Array.isArray(ticks) ? ticks : [])
    .filter((t) => t.raw > 0)
    .map((t) => ({ time: chartTime(t.tick), share: (100 * (t.quarantined ?? 0)) / t.raw, ...t }))
    .sort((a, b) => a.time - b.time);
  const section = document.getElementById("share");
  section.hidden = points.length === 0;
  if (points.length === 0) return;
  if (!shareChart) {
    shareChart = LightweightCharts.createChart(
      holder,
      chartOptions({
        localization: { timeFormatter: chartTimeLabel },
        timeScale: { borderColor: "#d5dbe1", timeVisible: true, secondsVisible: false },
        rightPriceScale: { borderColor: "#d5dbe1", scaleMargins: { top: 0.08, bottom: 0 } },
        handleScroll: false,
        handleScale: false,
      }),
    );
    shareSeries = shareChart.addSeries(LightweightCharts.HistogramSeries, {
      priceFormat: { type: "percent", precision: 1 },
      priceLineVisible: false,
      lastValueVisible: false,
      autoscaleInfoProvider: () => ({ priceRange: { minValue: 0, maxValue: 100 } }),
    });
  }
  shareSeries.setData(
    points.map((p) => ({ time: p.time, value: p.share, color: p.share > 0 ? "#c2410c" : "#94a3b8" })),
  );
  shareChart.timeScale().fitContent();
  const raw = points.reduce((s, p) => s + p.raw, 0);
  const quarantined = points.reduce((s, p) => s + (p.quarantined ?? 0), 0);
  note.textContent = `${quarantined} of ${raw} rows quarantined over the last ${points.length} ticks (${((100 * quarantined) / raw).toFixed(1)} %).`;
}

async function refresh() {
  const [latest, ticks] = await Promise.allSettled([
    getJSON("/api/latest"),
    getJSON(`/api/ticks?limit=${RECENT_TICKS}`),
  ]);
  if (latest.status === "fulfilled") renderLatest(latest.value);
  else showError(document.getElementById("latest"), latest.reason);
  if (ticks.status === "fulfilled") {
    renderLastTick(ticks.value);
    renderShare(ticks.value);
  } else showError(document.getElementById("last-tick"), ticks.reason);
  document.getElementById("refreshed").textContent = `updated ${nyTime(new Date().toISOString(), { seconds: true })}`;
}

initHeader();
header(document.getElementById("latest-table").tHead);
refresh();
setInterval(refresh, REFRESH_MS);
