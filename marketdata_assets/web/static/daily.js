// The symbol page's daily chart: a candle per session held, the volume pane below, the OHLCV
// legend, a range selector, and every NYSE session between the first and the last held that the
// history lacks shown as a gap: an empty slot, shaded, named in the legend and in a note.
import { nyDay } from "/static/common.js";
import { addVolume, drawn, edgeFit, followCrosshair, ohlcv, priceChart } from "/static/chart.js";

export const GAP = "#fbe3c8"; // the shade of a missing session's slot
export const UP = "#047857";
export const DOWN = "#b91c1c";
const NAMED = 5; // missing sessions named in the note (the others counted)

/** Draw the daily bars (non-empty) into `holder`, with the legend into `legend`; `sessions` are
 * the NYSE sessions from the first bar's day to the last's (GET /api/calendar). Returns the
 * sessions missing. */
export function drawDaily(holder, legend, bars, sessions) {
  const byDay = new Map(bars.map((bar) => [nyDay(bar.start), bar]));
  const missing = sessions.filter((day) => !byDay.has(day));
  const slots = [...byDay.keys(), ...missing].sort().map((time) => ({ time, bar: byDay.get(time) }));
  const chart = priceChart(holder);
  // Drawn first, under the candles: a full-height shade in each missing session's slot.
  const gaps = chart.addSeries(LightweightCharts.HistogramSeries, {
    priceScaleId: "gaps",
    color: GAP,
    priceLineVisible: false,
    lastValueVisible: false,
  });
  gaps.priceScale().applyOptions({ scaleMargins: { top: 0, bottom: 0 } });
  gaps.setData(missing.map((time) => ({ time, value: 1 })));
  const candles = chart.addSeries(LightweightCharts.CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    borderVisible: false,
    wickUpColor: UP,
    wickDownColor: DOWN,
    priceLineVisible: false,
  });
  const whole = (bar) => bar && bar.open !== null && bar.high !== null && bar.low !== null && bar.close !== null;
  candles.setData(
    slots.map(({ time, bar }) =>
      whole(bar) ? { time, open: bar.open, high: bar.high, low: bar.low, close: bar.close } : { time },
    ),
  );
  const volume = addVolume(chart, slots);
  const texts = new Map(
    slots.map(({ time, bar }) => [time, bar ? `${time} · ${ohlcv(bar)}` : `${time} · not held: a session missing from the history`]),
  );
  const newest = slots[slots.length - 1];
  followCrosshair(chart, legend, texts, () => texts.get(newest.time));
  let all = true; // "All" is chosen: a resize fits every slot again
  const fit = edgeFit(chart, () => all);
  fit(slots.length);
  drawn.daily = { chart, candles, volume, gaps, slots: slots.map((s) => s.time), missing };
  initRanges(chart, slots, (chosen) => {
    all = chosen;
    if (chosen) fit(slots.length);
  });
  return missing;
}

/** The range buttons: the last 1, 3, 6 or 12 months of slots, or all of them. */
function initRanges(chart, slots, chooseAll) {
  const buttons = document.querySelectorAll("#ranges button");
  for (const button of buttons) {
    button.addEventListener("click", () => {
      for (const other of buttons) other.setAttribute("aria-pressed", String(other === button));
      const months = Number(button.dataset.months);
      chooseAll(!months);
      if (!months) return;
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
