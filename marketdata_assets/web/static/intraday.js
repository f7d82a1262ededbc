// The symbol page's intraday chart: a session's 1-minute closes with their cumulative VWAP, the
// volume pane below, the OHLCV legend, and the served forecast with its 80 % interval drawn from
// the session's last close to the instant it is for (when the forecast is of the session shown).
import { chartTime, nyDay, nyTime, num } from "/static/common.js";
import { addVolume, drawn, edgeFit, followCrosshair, ohlcv, priceChart, timeKey } from "/static/chart.js";

export const FORECAST = "#7c3aed"; // the forecast's line
export const INTERVAL = "#c4b5fd"; // its 80 % interval's bounds

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

const line = (color, title, extra = {}) => ({
  color,
  lineWidth: 2,
  title,
  priceLineVisible: false,
  lastValueVisible: false,
  ...extra,
});

/** Draw a session's minute bars (non-empty) into `holder`, the legend into `legend`. */
export function drawIntraday(holder, legend, bars) {
  const chart = priceChart(holder, {
    timeScale: { borderColor: "#d5dbe1", timeVisible: true, secondsVisible: false },
  });
  const close = chart.addSeries(LightweightCharts.LineSeries, line("#1d4ed8", "close", { lastValueVisible: true }));
  const held = bars.filter((b) => b.close !== null);
  close.setData(held.map((b) => ({ time: chartTime(b.start), value: b.close })));
  const vwap = chart.addSeries(LightweightCharts.LineSeries, line("#d97706", "VWAP"));
  vwap.setData(cumulativeVwap(bars));
  const dashed = { lineStyle: LightweightCharts.LineStyle.Dashed, crosshairMarkerVisible: false, pointMarkersVisible: true, pointMarkersRadius: 2.5 };
  const upper = chart.addSeries(LightweightCharts.LineSeries, line(INTERVAL, "", { ...dashed, lineWidth: 1 }));
  const lower = chart.addSeries(LightweightCharts.LineSeries, line(INTERVAL, "", { ...dashed, lineWidth: 1 }));
  const forecast = chart.addSeries(LightweightCharts.LineSeries, line(FORECAST, "", dashed));
  // Whitespace only: the slots between the last bar and the forecast's target (see `spacing`).
  const spacer = chart.addSeries(LightweightCharts.LineSeries, line(FORECAST, "", { visible: false }));
  const rows = bars.map((bar) => ({ time: chartTime(bar.start), bar }));
  const volume = addVolume(chart, rows);
  const texts = new Map(rows.map(({ time, bar }) => [timeKey(time), `${nyTime(bar.start)} · ${ohlcv(bar)}`]));
  const newest = bars[bars.length - 1];
  followCrosshair(chart, legend, texts, () => `${nyTime(newest.start)} · ${ohlcv(newest)}`);
  const fit = edgeFit(chart);
  fit(bars.length);
  const last = held[held.length - 1];
  drawn.intraday = { chart, close, vwap, volume, forecast, lower, upper, spacer, texts, fit, session: nyDay(bars[0].start), last, slots: bars.length };
}

/** Draw `body` (GET /api/forecast) on the intraday chart: from the session's last close to the
 * forecast (and to its interval's bounds) at its target; nothing when the chart shows another
 * session than the forecast's or no forecast is served. Returns whether it was drawn. */
export function drawForecast(body) {
  const shown = drawn.intraday;
  if (!shown) return false;
  const { forecast, lower, upper, spacer, texts, fit, session, last, slots } = shown;
  for (const key of shown.forecastKeys ?? []) texts.delete(key);
  shown.forecastKeys = [];
  const drawable = body && body.served_model && body.target && body.as_of === session && last;
  if (!drawable) {
    for (const series of [forecast, lower, upper, spacer]) series.setData([]);
    fit(slots);
    return false;
  }
  const from = chartTime(last.start);
  const to = chartTime(body.target);
  const path = (value) => [
    { time: from, value: last.close },
    { time: to, value },
  ];
  const between = spacing(from, to, body.horizon);
  spacer.setData(between.map((time) => ({ time })));
  forecast.setData(path(body.forecast));
  lower.setData(path(body.lower));
  upper.setData(path(body.upper));
  texts.set(
    timeKey(to),
    `${nyTime(body.target)} · ${body.served_model} forecast ${num(body.forecast, 2)} (80 % interval ${num(body.lower, 2)} to ${num(body.upper, 2)})`,
  );
  shown.forecastKeys = [timeKey(to)];
  fit(slots + between.length + 1);
  return true;
}

/** The chart times between the last bar (`from`) and a forecast's target (`to`), one slot each,
 * so the forecast spans the time it covers: each trading minute before a minute horizon's target;
 * for "1d", each half hour of the next session (it opens at 09:30 New York) before its close. */
function spacing(from, to, horizon) {
  const times = [];
  const minutes = { "1m": 1, "5m": 5, "15m": 15 }[horizon];
  if (minutes) {
    for (let k = minutes - 1; k >= 1; k -= 1) if (to - 60 * k > from) times.push(to - 60 * k);
    return times;
  }
  const open = Math.floor(to / 86400) * 86400 + 9.5 * 3600; // chart times are New York's clock
  for (let t = open + 1800; t < to; t += 1800) if (t > from) times.push(t);
  return times;
}
