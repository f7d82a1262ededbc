// The symbol page's quote block (GET /api/quote/{SYMBOL}): the price, its change against the
// symbol's previous session (the basis on hover, "–" and the reason when none), the session's
// day figures, "as of" the price's event time, and the market word.
import { el, num, nyTime, sentence, showEmpty, signed } from "/static/common.js";

/** The quote block: price, change (its basis on hover), the day's figures, as of, the market. */
export function showQuote(quote) {
  const holder = document.getElementById("quote");
  if (quote.price === null) {
    showEmpty(holder, quote.message);
    return;
  }
  const direction = quote.change > 0 ? "up" : quote.change < 0 ? "down" : "";
  const change =
    quote.change === null ? "–" : `${signed(quote.change, 2)} (${signed(quote.change_pct, 2)} %)`;
  // On a split's ex-date the close is split-adjusted: the traded close divided by the ratio.
  const traded = quote.previous_close * quote.previous_close_split;
  const split = quote.previous_close_split ? ` (split-adjusted: ${num(traded, 2)} ÷ ${quote.previous_close_split})` : "";
  const basis = quote.previous_session
    ? `against the close of ${quote.previous_session}, ${num(quote.previous_close, 2)}${split}`
    : quote.change_note;
  const source = { minute_bars: "from the session's 1-minute bars", ticks: "from the ticks held this session" };
  const day = [
    ["Open", num(quote.day_open)],
    ["High", num(quote.day_high)],
    ["Low", num(quote.day_low)],
    ["Volume", quote.day_volume === null ? "–" : quote.day_volume.toLocaleString("en-US")],
  ];
  const parts = [
    el("p", { className: "quote-head" }, [
      el("span", { className: "quote-price", text: num(quote.price, 2) }),
      el("span", { className: "quote-currency", text: quote.currency }),
      el("span", { className: `quote-change ${direction}`, text: change, title: basis }),
      el("span", { className: `quote-market ${quote.market}`, text: `market ${quote.market}` }),
    ]),
    el(
      "dl",
      { className: "quote-day", title: source[quote.day_source] },
      day.map(([label, value]) => el("div", {}, [el("dt", { text: `Day ${label.toLowerCase()}` }), el("dd", { text: value })])),
    ),
    el("p", {
      className: "meta quote-as-of",
      text: `as of ${nyTime(quote.event_ts, { seconds: true })} (session ${quote.session})${quote.stale ? " · stale: the last tick did not refresh it" : ""}`,
    }),
  ];
  if (quote.change === null && quote.change_note) parts.push(sentence(quote.change_note, "note"));
  if (quote.day_note) parts.push(sentence(quote.day_note, "note"));
  holder.replaceChildren(...parts);
}
