// An HTML page that says one thing (a page not found, a symbol that breaks the rule): the
// header, its nav and the market's state, like every page.
import { initHeader } from "/static/common.js";

initHeader();
