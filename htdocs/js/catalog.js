/* catalog.js - the catalogue: filter panel (selects, colour swatches, price
 * slider), sort, pagination; all state in the URL query string (links
 * reproduce the view; back/forward work). */
import { api, el, header, grid, friendly, setStatus, money, busy, FACETS,
         facetSelect, colourSwatches, fieldValue, setField } from "./common.js";

header("shop");

const KEYS = FACETS.map(f => f[0]).concat(["min_price", "max_price", "sort", "page"]);
const SORTS = {
  "": ["Featured", null, null],
  "price-asc": ["Price: low to high", "price", "asc"],
  "price-desc": ["Price: high to low", "price", "desc"],
  "year-desc": ["Newest", "year", "desc"],
  "name-asc": ["Name A–Z", "product_display_name", "asc"]
};
const PAGE_SIZE = 24;
const PRICE_STEP = 50;

const $ = id => document.getElementById(id);
const form = $("filters");
const fields = $("filter-fields");
const sortSel = $("sort");
const status = $("status");
const results = $("results");
const pager = $("pager");
const clearBtn = $("clear");
const panel = $("filter-panel");
const toggle = $("filters-toggle");

for (const [v, [label]] of Object.entries(SORTS)) sortSel.append(el("option", { value: v, text: label }));

/* ---- collapsible panel (phones; CSS hides the button on wide screens) ---- */
function setOpen(open) {
  panel.classList.toggle("collapsed", !open);
  toggle.setAttribute("aria-expanded", open ? "true" : "false");
}
toggle.addEventListener("click", () => {
  const open = toggle.getAttribute("aria-expanded") !== "true";
  setOpen(open);
  if (open) { const first = form.querySelector("select, input"); if (first) first.focus(); }
});
panel.addEventListener("keydown", ev => {
  if (ev.key === "Escape" && toggle.getAttribute("aria-expanded") === "true" &&
      getComputedStyle(toggle).display !== "none") {
    setOpen(false);
    toggle.focus();
  }
});

/* ---- URL state ---- */
function state() {
  const q = new URLSearchParams(location.search);
  const s = {};
  for (const k of KEYS) { const v = q.get(k); if (v) s[k] = v; }
  for (const k of ["min_price", "max_price"])
    if (s[k] && !/^\d+(\.\d+)?$/.test(s[k])) delete s[k];
  return s;
}

function toQuery(s) {
  const q = new URLSearchParams();
  for (const k of KEYS) if (s[k]) q.set(k, s[k]);
  const str = q.toString();
  return str ? "?" + str : location.pathname;
}

/* moveFocus: after pagination only; a filter change keeps focus on its control
 * (arrow keys in the swatch group or a select change the value at once). */
function go(s, moveFocus, price) {
  /* A slider moved with the keyboard fires "change" on every key press:
   * price changes within 2 s of the last one share one history entry, so
   * Back returns to the view before the price was changed. */
  const st = history.state;
  if (price && st && st.price && Date.now() - st.price < 2000)
    history.replaceState({ price: Date.now() }, "", toQuery(s));
  else
    history.pushState(price ? { price: Date.now() } : null, "", toQuery(s));
  render(moveFocus);
}

/* ---- price slider ---- */
let range = null;          /* { lo, hi } of the sliders, multiples of PRICE_STEP */
const minIn = () => form.elements.min_price;
const maxIn = () => form.elements.max_price;

function showPrice() {
  for (const [inp, out] of [[minIn(), $("f-min-out")], [maxIn(), $("f-max-out")]]) {
    if (!inp) continue;
    const t = money.format(Number(inp.value));
    out.textContent = t;
    inp.setAttribute("aria-valuetext", t);
  }
}

function priceSlider(pr) {
  const lo = Math.max(0, Math.floor(Number(pr.min) / PRICE_STEP) * PRICE_STEP);
  let hi = Math.ceil(Number(pr.max) / PRICE_STEP) * PRICE_STEP;
  if (!(hi > lo)) hi = lo + PRICE_STEP;
  range = { lo, hi };
  const one = (id, name, label, value) => el("div", { class: "range-field" },
    el("label", { for: id, text: label }),
    el("input", { id, name, type: "range", min: lo, max: hi, step: PRICE_STEP, value: String(value) }),
    el("output", { id: id + "-out", for: id, class: "range-out", "aria-hidden": "true" }));
  const fs = el("fieldset", { class: "field price-range" }, el("legend", { text: "Price" }),
    one("f-min", "min_price", "Minimum price", lo),
    one("f-max", "max_price", "Maximum price", hi));
  /* the two thumbs cannot cross: the one being moved stops at the other */
  fs.addEventListener("input", ev => {
    const a = minIn(), b = maxIn();
    if (ev.target === a && Number(a.value) > Number(b.value)) a.value = b.value;
    if (ev.target === b && Number(b.value) < Number(a.value)) b.value = a.value;
    showPrice();
  });
  return fs;
}

/* A slider keeps the exact URL value (which may be off the 50 grid) until it is moved. */
function sliderValue(inp, end) {
  if (inp.dataset.synced !== undefined && inp.value === inp.dataset.synced) return inp.dataset.url || "";
  return Number(inp.value) === end ? "" : inp.value;
}

function fromForm() {
  const s = {};
  for (const [k] of FACETS) { const v = fieldValue(form, k); if (v) s[k] = v; }
  if (range && minIn() && maxIn()) {
    const a = sliderValue(minIn(), range.lo), b = sliderValue(maxIn(), range.hi);
    if (a) s.min_price = a;
    if (b) s.max_price = b;
  }
  if (sortSel.value) s.sort = sortSel.value;
  return s;
}

async function buildFilters() {
  let options;
  try {
    options = await api("/products/filters/options");
  } catch (e) {
    fields.replaceChildren(el("p", { class: "status error", text: "Filters unavailable: " + friendly(e) }));
    return;
  }
  const frag = document.createDocumentFragment();
  for (const [key, optKey, label] of FACETS) {
    const values = options[optKey];
    if (!Array.isArray(values) || !values.length) continue;
    frag.append(key === "base_color" ? colourSwatches(values) : facetSelect(key, label, values));
  }
  const pr = options.price_range || {};
  if (pr.min !== null && pr.min !== undefined && pr.max !== null && pr.max !== undefined &&
      isFinite(Number(pr.min)) && isFinite(Number(pr.max)))
    frag.append(priceSlider(pr));
  fields.replaceChildren(frag);
}

function syncForm(s) {
  for (const [k] of FACETS) setField(form, k, s[k]);
  if (range && minIn() && maxIn()) {
    const clamp = v => Math.min(range.hi, Math.max(range.lo, v));
    const a = minIn(), b = maxIn();
    a.value = String(s.min_price ? clamp(Number(s.min_price)) : range.lo);
    b.value = String(s.max_price ? clamp(Number(s.max_price)) : range.hi);
    if (Number(a.value) > Number(b.value)) a.value = b.value;
    a.dataset.url = s.min_price || ""; a.dataset.synced = a.value;
    b.dataset.url = s.max_price || ""; b.dataset.synced = b.value;
    showPrice();
  }
  sortSel.value = SORTS[s.sort] ? s.sort : "";
}

function activeCount(s) {
  let n = 0;
  for (const [k] of FACETS) if (s[k]) n++;
  if (s.min_price || s.max_price) n++;      /* the price range counts once */
  return n;
}

let seq = 0;
let filtersReady = null;     /* the filter panel, built once (in parallel with the first page) */
async function render(moveFocus) {
  const s = state();
  const page = Math.max(1, Math.min(10000, parseInt(s.page, 10) || 1));
  const q = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
  for (const [k] of FACETS) if (s[k]) q.set(k, s[k]);
  if (s.min_price) q.set("min_price", s.min_price);
  if (s.max_price) q.set("max_price", s.max_price);
  const so = SORTS[s.sort];
  if (so && so[1]) { q.set("sort_by", so[1]); q.set("sort_order", so[2]); }
  const active = activeCount(s);
  clearBtn.hidden = !active;
  toggle.textContent = active ? `Filters (${active})` : "Filters";

  const my = ++seq;
  busy(true);
  results.setAttribute("aria-busy", "true");
  setStatus(status, "loading", "Loading products…");
  const request = api("/products?" + q.toString());
  request.catch(() => {});      /* handled below; not an unhandled rejection meanwhile */
  await filtersReady;
  if (my === seq) syncForm(s);
  let data;
  try {
    data = await request;
  } catch (e) {
    if (my !== seq) return;
    results.replaceChildren();
    pager.replaceChildren();
    setStatus(status, "error", friendly(e));
    results.removeAttribute("aria-busy");
    busy(false);
    return;
  }
  if (my !== seq) return;
  results.removeAttribute("aria-busy");
  const items = data.products || [];
  const total = Number(data.total) || 0;
  if (!items.length) {
    results.replaceChildren();
    setStatus(status, "empty", page > 1 ? "No more products on this page." :
      "No products match these filters. Try removing some.");
  } else {
    results.replaceChildren(grid(items));
    const from = (page - 1) * PAGE_SIZE + 1;
    setStatus(status, "", `Showing ${from}–${from + items.length - 1} of ${total} products`);
  }
  buildPager(page, total, s);
  busy(false);
  if (moveFocus) $("catalog-title").focus();
}

function buildPager(page, total, s) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  pager.replaceChildren();
  if (pages <= 1 && page === 1) return;
  const link = (p, text, label) => {
    const a = el("a", { href: toQuery({ ...s, page: p > 1 ? String(p) : "" }), text, "aria-label": label });
    a.addEventListener("click", ev => { ev.preventDefault(); go({ ...s, page: p > 1 ? String(p) : "" }, true); });
    return a;
  };
  if (page > 1) pager.append(link(page - 1, "‹ Previous", "Previous page"));
  pager.append(el("span", { class: "pageno", text: `Page ${page} of ${pages}` }));
  if (page < pages) pager.append(link(page + 1, "Next ›", "Next page"));
}

/* Selects, swatches and the sliders (on release: "change", not "input") apply at once. */
form.addEventListener("change", ev => {
  if (ev.target === sortSel) return;
  go(fromForm(), false, ev.target.type === "range");
});
form.addEventListener("submit", ev => { ev.preventDefault(); go(fromForm()); });
sortSel.addEventListener("change", () => { const s = state(); delete s.page; s.sort = sortSel.value; go(s); });
clearBtn.addEventListener("click", () => { const s = state(); go(s.sort ? { sort: s.sort } : {}, true); });
window.addEventListener("popstate", () => render(false));

filtersReady = buildFilters();
render(false);
