// What the symbol page's charts share: a price pane over a volume pane, a legend that reads out
// the bar under the crosshair (the latest bar when the cursor is off the chart), and a fit that
// keeps the first and last bars and their time labels clear of the edges. The charts drawn are
// kept in `drawn` (the browser tests read the library's own state from it).
import { chartOptions, chartTimeLabel, num } from "/static/common.js";

/** The charts drawn, by name ("intraday", "daily"): {chart, ...its series}. */
export const drawn = {};

export const VOLUME_UP = "#8cc9b3"; // a bar that closed at or above its open
export const VOLUME_DOWN = "#e8a3a3";
const EDGE_PX = 36; // kept clear at each end of the time axis: a candle and its centred label
const VOLUME_SHARE = 0.22; // of the chart's height

/** A chart with a price pane and a volume pane below it (times already in New York). */
export function priceChart(holder, extra = {}) {
  const chart = LightweightCharts.createChart(
    holder,
    chartOptions({ localization: { timeFormatter: chartTimeLabel }, ...extra }),
  );
  return chart;
}

/** The volume pane's histogram (pane 1): one point per slot of `rows`, coloured by the bar's
 * direction; a slot without a bar (a missing session) is whitespace. */
export function addVolume(chart, rows) {
  const volume = chart.addSeries(
    LightweightCharts.HistogramSeries,
    { priceFormat: { type: "volume" }, priceLineVisible: false, lastValueVisible: false, title: "volume" },
    1,
  );
  volume.setData(volumePoints(rows));
  const [price, pane] = chart.panes();
  price.setStretchFactor(1 - VOLUME_SHARE);
  pane.setStretchFactor(VOLUME_SHARE);
  return volume;
}

/** The volume pane's points of `rows` ({time, bar}), coloured by each bar's direction. */
export function volumePoints(rows) {
  return rows.map(({ time, bar }) =>
    bar
      ? { time, value: bar.volume ?? 0, color: bar.close !== null && bar.open !== null && bar.close < bar.open ? VOLUME_DOWN : VOLUME_UP }
      : { time },
  );
}

/** "O 231.00 H 231.40 L 230.90 C 231.20 V 12,345": a bar's figures in the legend's words. */
export function ohlcv(bar) {
  const volume = bar.volume === null || bar.volume === undefined ? "–" : bar.volume.toLocaleString("en-US");
  return `O ${num(bar.open)} H ${num(bar.high)} L ${num(bar.low)} C ${num(bar.close)} V ${volume}`;
}

/** A chart time as the key its legend texts are kept under (a business day comes back from the
 * library as {year, month, day}). */
export function timeKey(time) {
  return typeof time === "object" ? chartTimeLabel(time) : String(time);
}

/** Keep `legend` saying the text of the slot under the crosshair (`texts`: time key -> text),
 * `latest()` when the cursor is off the chart or over no slot with a text. */
export function followCrosshair(chart, legend, texts, latest) {
  const show = (time) => {
    const text = time === undefined ? undefined : texts.get(timeKey(time));
    legend.textContent = text ?? latest();
  };
  chart.subscribeCrosshairMove((param) => show(param.point ? param.time : undefined));
  show(undefined);
  return show;
}

/** A fit of the chart's `count` slots, all shown with EDGE_PX clear at both ends (the first
 * candle and its time label whole): `fit(count)` applies it (again whenever the chart is resized
 * while `whole()` says so: a chosen range is left as it is). */
export function edgeFit(chart, whole = () => true) {
  let slots = 0;
  const apply = () => {
    const width = chart.timeScale().width();
    if (!width || !slots) return;
    const pad = (EDGE_PX * slots) / Math.max(1, width - 2 * EDGE_PX);
    chart.timeScale().setVisibleLogicalRange({ from: -0.5 - pad, to: slots - 0.5 + pad });
  };
  chart.timeScale().subscribeSizeChange(() => whole() && apply());
  return (count) => {
    slots = count;
    apply();
    requestAnimationFrame(apply); // once the chart has its size (autoSize measures it)
  };
}
