// "/quality": quarantined rows by reason and by tick, each with its original raw line (as text)
// and the command that replays its tick. The filters are the page's query (?tick=&reason=).
// Below them, the history rows the bars gate refused (the newest sessions held) and the corporate
// actions the actions gate refused (every session held), each with its reasons and its source
// row's text (as text, never markup).
import { NO_TICKS, el, emptyMessage, getJSON, initHeader, nyTime, sentence, showEmpty, showError } from "/static/common.js";

const TICKS = 200; // recent ticks offered in the tick filter
const ROWS = 500; // rows read for the reason counts and for the list
const HISTORY_ROWS = 200; // history rows shown
const ACTION_ROWS = 200; // quarantined actions shown
const NO_ROWS = "no quarantined rows in the recent ticks: every row passed the gate (to see some, run `marketdata tick --fault-rate 0.1`)";

const tickFilter = document.getElementById("tick-filter");
const reasonFilter = document.getElementById("reason-filter");

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) search.set(key, value);
  return search.toString();
}

function option(select, value, label) {
  if ([...select.options].some((o) => o.value === value)) return;
  const item = el("option", { text: label });
  item.value = value;
  select.append(item);
}

/** The original line as it arrived: the text of a line that was not JSON, else its object. */
function original(record) {
  if (record.raw !== undefined && record.raw !== null) return String(record.raw);
  return JSON.stringify(record.record);
}

function copyButton(text) {
  const button = el("button", { text: "Copy" });
  button.type = "button";
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
  });
  return button;
}

function recordView(record) {
  const head = el("div", { className: "record-head" }, [
    el("span", { text: `${nyTime(record.tick)} (${record.tick})` }),
    el("span", { className: "meta", text: `line ${record.line}` }),
    ...(record.reasons || []).map((code) => el("span", { className: "reason", text: code })),
  ]);
  const parts = [head, el("pre", { className: "raw", text: original(record) })];
  if (record.replay) {
    parts.push(
      el("div", { className: "replay" }, [
        el("span", { className: "meta", text: "replay:" }),
        el("code", { text: record.replay }),
        copyButton(record.replay),
      ]),
    );
  }
  return el("article", { className: "record" }, parts);
}

function showReasons(body) {
  const records = Array.isArray(body) ? body : [];
  const holder = document.getElementById("reasons");
  const counts = new Map();
  for (const record of records) for (const code of record.reasons || []) counts.set(code, (counts.get(code) || 0) + 1);
  for (const code of [...counts.keys()].sort()) option(reasonFilter, code, code);
  if (counts.size === 0) {
    holder.replaceChildren();
    return;
  }
  const chips = el("ul", { className: "chips" });
  for (const [code, n] of [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    const button = el("button", { text: `${code}: ${n}` });
    button.type = "button";
    button.dataset.reason = code;
    button.setAttribute("aria-pressed", String(reasonFilter.value === code));
    button.addEventListener("click", () => {
      reasonFilter.value = reasonFilter.value === code ? "" : code;
      update();
    });
    chips.append(el("li", {}, [button]));
  }
  holder.replaceChildren(chips);
}

function showRows(body, filters) {
  const records = Array.isArray(body) ? body : [];
  const holder = document.getElementById("rows");
  const note = document.getElementById("rows-note");
  const scope = [filters.tick && `tick ${filters.tick}`, filters.reason && `reason ${filters.reason}`].filter(Boolean);
  note.textContent = `${records.length} row${records.length === 1 ? "" : "s"}${scope.length ? ` (${scope.join(", ")})` : ""}`;
  if (records.length === 0) {
    holder.replaceChildren(sentence(scope.length ? "no quarantined rows match these filters" : NO_ROWS));
    return;
  }
  holder.replaceChildren(...records.map(recordView));
}

async function update() {
  const filters = { tick: tickFilter.value, reason: reasonFilter.value };
  history.replaceState(null, "", `/quality${query(filters) ? `?${query(filters)}` : ""}`);
  try {
    // The reason counts cover the tick filter alone; without a reason filter one read serves both.
    const byTick = getJSON(`/api/quarantine?${query({ tick: filters.tick, limit: ROWS })}`);
    const rows = filters.reason ? getJSON(`/api/quarantine?${query({ ...filters, limit: ROWS })}`) : byTick;
    const [counted, listed] = await Promise.all([byTick, rows]);
    showReasons(counted);
    showRows(listed, filters);
  } catch (error) {
    showError(document.getElementById("rows"), error);
  }
}

function historyView(row) {
  const head = el("div", { className: "record-head" }, [
    el("span", { text: row.session }),
    el("span", { className: "symbol", text: row.symbol ?? "(no symbol)" }),
    el("span", { className: "meta", text: `row ${row.row}` }),
    ...(row.reasons || []).map((code) => el("span", { className: "reason", text: code })),
  ]);
  return el("article", { className: "record" }, [head, el("pre", { className: "raw", text: row.raw ?? "" })]);
}

/** The history's quarantined bars: read once, whatever the tick filters say. */
async function showHistory() {
  const holder = document.getElementById("history-rows");
  const note = document.getElementById("history-note");
  try {
    const body = await getJSON(`/api/quarantine/history?limit=${HISTORY_ROWS}`);
    if (!Array.isArray(body) || body.length === 0) {
      note.textContent = "";
      // An answer without its sentence: the dashboard's one suggested backfill (GET /api/backfill).
      const fallback = async () => `no history bars quarantined: run \`${(await getJSON("/api/backfill")).command}\``;
      showEmpty(holder, emptyMessage(body, null) ?? (await fallback()));
      return;
    }
    const sessions = [...new Set(body.map((row) => row.session))];
    note.textContent = `${body.length} row${body.length === 1 ? "" : "s"} in ${sessions.length} session${sessions.length === 1 ? "" : "s"} (newest first)`;
    holder.replaceChildren(...body.map(historyView));
  } catch (error) {
    showError(holder, error);
  }
}

/** What was read of a refused action: "split 0 on 2026-11-25" (a part not read: "?"). */
function actionRead(row) {
  const value = row.value === null || row.value === undefined ? "?" : String(row.value);
  return `${row.kind ?? "?"} ${value} on ${row.ex_date ?? "?"}`;
}

function actionView(row) {
  const head = el("div", { className: "record-head" }, [
    el("span", { text: row.session }),
    el("span", { className: "symbol", text: row.symbol ?? "(no symbol)" }),
    el("span", { className: "meta", text: `row ${row.row} · ${actionRead(row)}` }),
    ...(row.reasons || []).map((code) => el("span", { className: "reason", text: code })),
  ]);
  return el("article", { className: "record" }, [head, el("pre", { className: "raw", text: row.raw ?? "" })]);
}

/** The corporate actions the actions gate refused: read once, whatever the tick filters say. */
async function showActions() {
  const holder = document.getElementById("action-rows");
  const note = document.getElementById("actions-note");
  try {
    const body = await getJSON(`/api/quarantine/actions?limit=${ACTION_ROWS}`);
    if (!Array.isArray(body) || body.length === 0) {
      note.textContent = "";
      showEmpty(holder, emptyMessage(body, "no corporate actions quarantined"));
      return;
    }
    const sessions = [...new Set(body.map((row) => row.session))];
    note.textContent = `${body.length} action${body.length === 1 ? "" : "s"} in ${sessions.length} session${sessions.length === 1 ? "" : "s"} (newest first)`;
    holder.replaceChildren(...body.map(actionView));
  } catch (error) {
    showError(holder, error);
  }
}

async function main() {
  initHeader();
  showHistory();
  showActions();
  const asked = new URLSearchParams(location.search);
  let ticks;
  try {
    ticks = await getJSON(`/api/ticks?limit=${TICKS}`);
  } catch (error) {
    showError(document.getElementById("rows"), error);
    return;
  }
  if (!Array.isArray(ticks) || ticks.length === 0) {
    document.getElementById("filters").hidden = true;
    showEmpty(document.getElementById("rows"), emptyMessage(ticks, NO_TICKS));
    return;
  }
  for (const tick of ticks.filter((t) => t.quarantined > 0)) {
    option(tickFilter, tick.tick, `${nyTime(tick.tick)}: ${tick.quarantined} quarantined`);
    for (const code of Object.keys(tick.reasons || {})) option(reasonFilter, code, code);
  }
  // A tick or reason named in the address is kept even when not among the recent ones.
  if (asked.get("tick")) option(tickFilter, asked.get("tick"), asked.get("tick"));
  if (asked.get("reason")) option(reasonFilter, asked.get("reason"), asked.get("reason"));
  tickFilter.value = asked.get("tick") || "";
  reasonFilter.value = asked.get("reason") || "";
  tickFilter.addEventListener("change", update);
  reasonFilter.addEventListener("change", update);
  await update();
}

main();
