// The symbol page's daily chart: a candle per session held, the volume pane below, the OHLCV
// legend, a range selector, every NYSE session between the first and the last held that the
// history lacks shown as a gap (an empty slot, shaded, named in the legend and in a note), and
// the symbol's splits and dividends as markers on their ex-dates' candles (the library's own
// series markers), each with its value. The bars come on the basis the page asks (none, splits,
// all); another basis redraws the same chart (`show`).
import { nyDay } from "/static/common.js";
import { addVolume, drawn, edgeFit, followCrosshair, ohlcv, priceChart, volumePoints } from "/static/chart.js";

export const GAP = "#fbe3c8"; // the shade of a missing session's slot
export const UP = "#047857";
export const DOWN = "#b91c1c";
export const SPLIT = "#1d4ed8"; // a split's marker
export const DIVIDEND = "#a16207"; // a dividend's marker
const NAMED = 5; // missing sessions named in the note
const MAX_DENOMINATOR = 1000; // a split's ratio is shown n:d with d up to this (the gate's bound)

/** "4:1 split" (value 4), "3:2 split" (1.5), "1:10 split" (a reverse split, 0.1). */
export function splitText(value) {
  for (let d = 1; d <= MAX_DENOMINATOR; d += 1) {
    const n = Math.round(value * d);
    if (n > 0 && Math.abs(n / d - value) <= 1e-9 * Math.max(1, value)) return `${n}:${d} split`;
  }
  return `${value}:1 split`;
}

/** "div 0.24 USD": a dividend's cash per share (2 to 4 decimals) and its currency. */
export function dividendText(value, currency) {
  const amount = value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 });
  return currency ? `div ${amount} ${currency}` : `div ${amount}`;
}

/** An action's words: its marker's text and the legend's. */
export function actionText(action) {
  return action.kind === "split" ? splitText(action.value) : dividendText(action.value, action.currency);
}

/** The markers of `actions` (GET /api/actions) whose ex-date is a session of `held`, by time. */
function actionMarkers(actions, held) {
  return actions
    .filter((action) => held.has(action.ex_date))
    .sort((a, b) => (a.ex_date < b.ex_date ? -1 : a.ex_date > b.ex_date ? 1 : 0))
    .map((action) =>
      action.kind === "split"
        ? { time: action.ex_date, position: "aboveBar", shape: "arrowDown", color: SPLIT, text: actionText(action) }
        : { time: action.ex_date, position: "belowBar", shape: "arrowUp", color: DIVIDEND, text: actionText(action) },
    );
}

/** Draw the daily bars (non-empty) into `holder`, with the legend into `legend`; `sessions` are
 * the NYSE sessions from the first bar's day to the last's (GET /api/calendar), `actions` the
 * symbol's splits and dividends, `basis` the bars' adjustment. Returns the sessions missing and
 * `show(bars, basis)`, which redraws the chart with the same sessions' bars on another basis. */
export function drawDaily(holder, legend, bars, sessions, actions, basis) {
  const chart = priceChart(holder);
  // Drawn first, under the candles: a full-height shade in each missing session's slot.
  const gaps = chart.addSeries(LightweightCharts.HistogramSeries, {
    priceScaleId: "gaps",
    color: GAP,
    priceLineVisible: false,
    lastValueVisible: false,
  });
  gaps.priceScale().applyOptions({ scaleMargins: { top: 0, bottom: 0 } });
  const candles = chart.addSeries(LightweightCharts.CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    borderVisible: false,
    wickUpColor: UP,
    wickDownColor: DOWN,
    priceLineVisible: false,
  });
  const markers = LightweightCharts.createSeriesMarkers(candles, []);
  const volume = addVolume(chart, []);
  const texts = new Map(); // slot time -> the legend's text
  let newest = null;
  const follow = followCrosshair(chart, legend, texts, () => texts.get(newest) ?? "");
  let all = true; // "All" is chosen: a resize fits every slot again
  const fit = edgeFit(chart, () => all);
  let slots = [];
  let missing = [];

  const show = (shownBars, shownBasis) => {
    const byDay = new Map(shownBars.map((bar) => [nyDay(bar.start), bar]));
    missing = sessions.filter((day) => !byDay.has(day));
    const count = slots.length;
    slots = [...byDay.keys(), ...missing].sort().map((time) => ({ time, bar: byDay.get(time) }));
    gaps.setData(missing.map((time) => ({ time, value: 1 })));
    const whole = (bar) => bar && bar.open !== null && bar.high !== null && bar.low !== null && bar.close !== null;
    candles.setData(
      slots.map(({ time, bar }) =>
        whole(bar) ? { time, open: bar.open, high: bar.high, low: bar.low, close: bar.close } : { time },
      ),
    );
    volume.setData(volumePoints(slots));
    const held = new Set(byDay.keys());
    markers.setMarkers(actionMarkers(actions, held));
    const said = new Map();
    for (const action of actions) said.set(action.ex_date, [...(said.get(action.ex_date) ?? []), actionText(action)]);
    texts.clear();
    for (const { time, bar } of slots) {
      const text = bar ? `${time} · ${ohlcv(bar)}` : `${time} · not held: a session missing from the history`;
      texts.set(time, said.has(time) ? `${text} · ${said.get(time).join(" · ")}` : text);
    }
    newest = slots[slots.length - 1].time;
    follow(undefined);
    if (slots.length !== count && all) fit(slots.length);
    drawn.daily = { chart, candles, volume, gaps, markers, slots: slots.map((s) => s.time), missing, basis: shownBasis };
    return missing;
  };

  show(bars, basis);
  initRanges(chart, () => slots, (chosen) => {
    all = chosen;
    if (chosen) fit(slots.length);
  });
  return { missing, show };
}

/** The range buttons: the last 1, 3, 6 or 12 months of slots, or all of them. */
function initRanges(chart, current, chooseAll) {
  const buttons = document.querySelectorAll("#ranges button");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      const months = Number(button.dataset.months);
      chooseAll(!months);
      if (!months) return;
      const slots = current();
      const last = new Date(`${slots[slots.length - 1].time}T00:00:00Z`);
      last.setUTCMonth(last.getUTCMonth() - months);
      const cutoff = last.toISOString().slice(0, 10);
      const firstIndex = Math.max(0, slots.findIndex((s) => s.time > cutoff));
      chart.timeScale().setVisibleLogicalRange({ from: firstIndex - 0.5, to: slots.length - 0.5 });
    });
  }
}

/** The note under the chart naming the missing sessions ("" when none is). */
export function missingNote(symbol, missing) {
  if (missing.length === 0) return "";
  const named = missing.slice(0, NAMED).join(", ");
  const more = missing.length > NAMED ? ` and ${missing.length - NAMED} more` : "";
  const count = missing.length === 1 ? "1 NYSE session is" : `${missing.length} NYSE sessions are`;
  return `${count} not held for ${symbol} (shaded gaps): ${named}${more}`;
}
