/* search.js - text search, photo search (multipart), and both together
 * (cross-modal). Query text and filters live in the URL; a photo cannot. */
import { api, el, header, grid, friendly, setStatus, busy, FACETS, facetSelect,
         colourSwatches, fieldValue, setField } from "./common.js";

header("search");
const form = document.getElementById("search");
const qIn = document.getElementById("q");
const photo = document.getElementById("photo");
const drop = document.getElementById("drop");
const preview = document.getElementById("preview");
const clearPhoto = document.getElementById("clear-photo");
const fields = document.getElementById("filter-fields");
const status = document.getElementById("status");
const results = document.getElementById("results");
let file = null;

function setFile(f) {
  file = null;
  preview.replaceChildren();
  clearPhoto.hidden = true;
  if (!f) { photo.value = ""; return; }
  if (!/^image\/(jpeg|png)$/.test(f.type)) { setStatus(status, "error", "Please choose a JPEG or PNG photo."); return; }
  if (f.size > 10 * 1024 * 1024) { setStatus(status, "error", "That photo is over 10 MB."); return; }
  file = f;
  /* data: URL, not blob: - the Content-Security-Policy allows img-src 'self' data: only. */
  const reader = new FileReader();
  reader.onload = () => { if (file === f) preview.replaceChildren(el("img", { src: String(reader.result), alt: "Your photo: " + f.name })); };
  reader.readAsDataURL(f);
  clearPhoto.hidden = false;
}
photo.addEventListener("change", () => setFile(photo.files[0] || null));
clearPhoto.addEventListener("click", () => { setFile(null); photo.focus(); });
for (const t of ["dragenter", "dragover"]) drop.addEventListener(t, e => { e.preventDefault(); drop.classList.add("over"); });
for (const t of ["dragleave", "drop"]) drop.addEventListener(t, e => { e.preventDefault(); drop.classList.remove("over"); });
drop.addEventListener("drop", e => { const f = e.dataTransfer.files[0]; if (f) setFile(f); });

async function buildFilters() {
  let o;
  try { o = await api("/products/filters/options"); }
  catch (e) { fields.replaceChildren(el("p", { class: "status error", text: "Filters unavailable: " + friendly(e) })); return; }
  for (const [key, ok, label] of FACETS) {
    const vals = o[ok];
    if (!Array.isArray(vals) || !vals.length) continue;
    fields.append(key === "base_color" ? colourSwatches(vals) : facetSelect(key, label, vals));
  }
  fields.append(el("div", { class: "field" }, el("label", { for: "f-min", text: "Min price (₹)" }),
    el("input", { id: "f-min", name: "min_price", type: "number", min: 0, step: "any" })),
    el("div", { class: "field" }, el("label", { for: "f-max", text: "Max price (₹)" }),
    el("input", { id: "f-max", name: "max_price", type: "number", min: 0, step: "any" })));
}

function readUrl() {
  const q = new URLSearchParams(location.search);
  qIn.value = q.get("q") || "";
  let any = false;
  for (const k of FACETS.map(f => f[0]).concat(["min_price", "max_price"])) {
    const v = q.get(k) || "";
    setField(form, k, v);
    if (v) any = true;
  }
  if (any) document.getElementById("filters-box").open = true;
}

function filters() {
  const f = {};
  for (const [k] of FACETS) { const v = fieldValue(form, k); if (v) f[k] = v; }
  for (const k of ["min_price", "max_price"]) {
    const x = form.elements[k];
    if (x && x.value !== "" && isFinite(Number(x.value))) f[k] = Number(x.value);
  }
  return f;
}

function writeUrl(push) {
  const q = new URLSearchParams();
  if (qIn.value.trim()) q.set("q", qIn.value.trim());
  for (const [k, v] of Object.entries(filters())) q.set(k, String(v));
  const url = q.toString() ? "?" + q : location.pathname;
  if (url !== location.search) (push ? history.pushState : history.replaceState).call(history, null, "", url);
}

let seq = 0;
async function run() {
  const text = qIn.value.trim();
  const f = filters();
  if (!text && !file) {
    seq++;
    setStatus(status, "", "Type something or choose a photo to search.");
    results.replaceChildren();
    results.removeAttribute("aria-busy");
    busy(false);
    return;
  }
  const my = ++seq;
  setStatus(status, "loading", "Searching…");
  results.setAttribute("aria-busy", "true");
  busy(true);
  let r;
  try {
    if (file) {
      const fd = new FormData();
      fd.append("image", file, file.name);
      if (text) fd.append("query", text);
      fd.append("limit", "24");
      if (Object.keys(f).length) fd.append("filters", JSON.stringify(f));
      r = await api(text ? "/search/cross-modal" : "/search/image", { method: "POST", form: fd });
    } else {
      const body = { query: text, limit: 24 };
      if (Object.keys(f).length) body.filters = f;
      r = await api("/search/text", { method: "POST", json: body });
    }
  } catch (e) {
    if (my !== seq) return;
    results.removeAttribute("aria-busy");
    results.replaceChildren();
    setStatus(status, "error", friendly(e));
    busy(false);
    return;
  }
  if (my !== seq) return;
  results.removeAttribute("aria-busy");
  busy(false);
  const items = r.products || [];
  const kind = { text: "Text", image: "Photo", "cross-modal": "Photo + text" }[r.search_type] || "Search";
  if (!items.length) { results.replaceChildren(); setStatus(status, "empty", "Nothing matched. Try other words or fewer filters."); return; }
  setStatus(status, "", `${kind} search: ${items.length} results, best match first`);
  results.replaceChildren(grid(items));
}

form.addEventListener("submit", e => { e.preventDefault(); writeUrl(true); run(); });
window.addEventListener("popstate", () => { readUrl(); run(); });

buildFilters().then(async () => {
  readUrl();
  if (qIn.value) await run();
  busy(false);
});
