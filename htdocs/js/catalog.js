/* catalog.js - home/catalog: filter panel, sort, pagination; all state in
 * the URL query string (links reproduce the view; back/forward work). */
import { api, el, header, grid, friendly, setStatus, me } from "./common.js";

header("shop");

const FACETS = [
  ["gender", "genders", "Gender"],
  ["master_category", "master_categories", "Category"],
  ["sub_category", "sub_categories", "Sub-category"],
  ["article_type", "article_types", "Article type"],
  ["base_color", "base_colors", "Colour"],
  ["season", "seasons", "Season"],
  ["usage", "usages", "Usage"],
  ["brand", "brands", "Brand"]
];
const KEYS = FACETS.map(f => f[0]).concat(["min_price", "max_price", "sort", "page"]);
const SORTS = {
  "": ["Featured", null, null],
  "price-asc": ["Price: low to high", "price", "asc"],
  "price-desc": ["Price: high to low", "price", "desc"],
  "year-desc": ["Newest", "year", "desc"],
  "name-asc": ["Name A–Z", "product_display_name", "asc"]
};
const PAGE_SIZE = 24;

const form = document.getElementById("filters");
const fields = document.getElementById("filter-fields");
const sortSel = document.getElementById("sort");
const status = document.getElementById("status");
const results = document.getElementById("results");
const pager = document.getElementById("pager");
const clearBtn = document.getElementById("clear");

for (const [v, [label]] of Object.entries(SORTS)) sortSel.append(el("option", { value: v, text: label }));

function state() {
  const q = new URLSearchParams(location.search);
  const s = {};
  for (const k of KEYS) { const v = q.get(k); if (v) s[k] = v; }
  return s;
}

function toQuery(s) {
  const q = new URLSearchParams();
  for (const k of KEYS) if (s[k]) q.set(k, s[k]);
  const str = q.toString();
  return str ? "?" + str : location.pathname;
}

function go(s) {
  history.pushState(null, "", toQuery(s));
  render(true);
}

function fromForm() {
  const s = {};
  for (const [k] of FACETS) { const f = form.elements[k]; if (f && f.value) s[k] = f.value; }
  for (const k of ["min_price", "max_price"]) {
    if (!form.elements[k]) continue;
    const v = form.elements[k].value.trim();
    if (v && /^\d+(\.\d+)?$/.test(v)) s[k] = v;
  }
  if (sortSel.value) s.sort = sortSel.value;
  return s;
}

let options = null;
async function buildFilters() {
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
    const id = "f-" + key;
    const sel = el("select", { id, name: key });
    sel.append(el("option", { value: "", text: "Any" }));
    for (const o of values) {
      if (o.value === null || o.value === undefined) continue;
      sel.append(el("option", { value: String(o.value), text: o.value + " (" + o.count + ")" }));
    }
    frag.append(el("div", { class: "field" }, el("label", { for: id, text: label }), sel));
  }
  const pr = options.price_range || {};
  const lo = pr.min !== undefined && pr.min !== null ? Math.floor(pr.min) : 0;
  const hi = pr.max !== undefined && pr.max !== null ? Math.ceil(pr.max) : "";
  const fs = el("fieldset", { class: "field price-range" }, el("legend", { text: "Price (₹)" }),
    el("label", { for: "f-min", text: "Min" }),
    el("input", { id: "f-min", name: "min_price", type: "number", min: 0, step: "any", placeholder: String(lo), inputMode: "decimal" }),
    el("label", { for: "f-max", text: "Max" }),
    el("input", { id: "f-max", name: "max_price", type: "number", min: 0, step: "any", placeholder: String(hi), inputMode: "decimal" }));
  frag.append(fs);
  fields.replaceChildren(frag);
}

function syncForm(s) {
  for (const [k] of FACETS) {
    const f = form.elements[k];
    if (!f) continue;
    if (s[k] && ![...f.options].some(o => o.value === s[k]))
      f.append(el("option", { value: s[k], text: s[k] }));
    f.value = s[k] || "";
  }
  if (form.elements.min_price) form.elements.min_price.value = s.min_price || "";
  if (form.elements.max_price) form.elements.max_price.value = s.max_price || "";
  sortSel.value = SORTS[s.sort] ? s.sort : "";
}

let seq = 0;
async function render(moveFocus) {
  const s = state();
  syncForm(s);
  const page = Math.max(1, Math.min(10000, parseInt(s.page, 10) || 1));
  const q = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
  for (const [k] of FACETS) if (s[k]) q.set(k, s[k]);
  if (s.min_price) q.set("min_price", s.min_price);
  if (s.max_price) q.set("max_price", s.max_price);
  const so = SORTS[s.sort];
  if (so && so[1]) { q.set("sort_by", so[1]); q.set("sort_order", so[2]); }
  const active = Object.keys(s).filter(k => k !== "page" && k !== "sort").length;
  clearBtn.hidden = !active;

  const my = ++seq;
  results.setAttribute("aria-busy", "true");
  setStatus(status, "loading", "Loading products…");
  let data;
  try {
    data = await api("/products?" + q.toString());
  } catch (e) {
    if (my !== seq) return;
    results.replaceChildren();
    pager.replaceChildren();
    setStatus(status, "error", friendly(e));
    results.removeAttribute("aria-busy");
    return;
  }
  if (my !== seq) return;
  results.removeAttribute("aria-busy");
  const items = data.products || [];
  if (!items.length) {
    results.replaceChildren();
    setStatus(status, "empty", page > 1 ? "No more products on this page." :
      "No products match these filters. Try removing some.");
  } else {
    results.replaceChildren(grid(items));
    const from = (page - 1) * PAGE_SIZE + 1;
    setStatus(status, "", `Showing ${from}–${from + items.length - 1} of ${data.total} products`);
  }
  buildPager(page, data.total, s);
  if (moveFocus) document.getElementById("catalog-title").focus();
}

function buildPager(page, total, s) {
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  pager.replaceChildren();
  if (pages <= 1 && page === 1) return;
  const link = (p, text, label) => {
    const a = el("a", { href: toQuery({ ...s, page: p > 1 ? String(p) : "" }), text, "aria-label": label });
    a.addEventListener("click", ev => { ev.preventDefault(); go({ ...s, page: p > 1 ? String(p) : "" }); });
    return a;
  };
  if (page > 1) pager.append(link(page - 1, "‹ Previous", "Previous page"));
  pager.append(el("span", { class: "pageno", text: `Page ${page} of ${pages}` }));
  if (page < pages) pager.append(link(page + 1, "Next ›", "Next page"));
}

form.addEventListener("change", ev => {
  if (ev.target.type === "number") return; /* price applies on submit */
  go(fromForm());
});
form.addEventListener("submit", ev => { ev.preventDefault(); go(fromForm()); });
sortSel.addEventListener("change", () => { const s = state(); delete s.page; s.sort = sortSel.value; go(s); });
clearBtn.addEventListener("click", () => { const s = state(); go(s.sort ? { sort: s.sort } : {}); });
window.addEventListener("popstate", () => render(false));

/* Picks for the signed-in shopper on the home page. */
async function picks() {
  const box = document.getElementById("picks");
  const u = await me();
  if (!u || !box) return;
  try {
    const r = await api(`/users/${u.user_id}/recommendations?limit=4`);
    if (!r.products || !r.products.length) return;
    box.hidden = false;
    box.append(el("h2", { text: "Picked for " + u.display_name }),
      grid(r.products, p => p.personalization_reason ? el("p", { class: "reason", text: p.personalization_reason }) : null));
  } catch (e) { /* optional section */ }
}

buildFilters().then(() => render(false));
picks();
