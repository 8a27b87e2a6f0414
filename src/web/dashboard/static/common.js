"use strict";
// Shared helpers of the dashboard pages. Every piece of data reaches the page as a text node
// (never as HTML), so a title like <img src=x onerror=alert(1)> shows as text.
const mr = {
  async getJson(url) {
    const response = await fetch(url, { headers: { accept: "application/json" } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error(body && body.detail ? body.detail : `HTTP ${response.status} for ${url}`);
    }
    return body;
  },

  /** Creates an element with properties and children (nodes or text). */
  el(tag, props, ...children) {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(child == null ? "" : String(child)));
    }
    return node;
  },

  /** Replaces a tbody's rows; each row is a list of cells (nodes or text). */
  fillTable(tbody, rows) {
    tbody.replaceChildren(...rows.map((cells) => mr.el("tr", null, ...cells.map((c) => mr.el("td", null, c)))));
  },

  /** A movie's `|`-separated genres as chips. */
  chips(genre) {
    return mr.el("span", { className: "chips" }, ...(genre ? genre.split("|") : []).map((g) => mr.el("span", { className: "chip" }, g)));
  },

  link(href, text) {
    return mr.el("a", { href }, text);
  },

  debounce(fn, ms) {
    let timer;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  },

  showError(error) {
    const box = document.getElementById("error");
    if (!box) return;
    box.hidden = !error;
    box.textContent = error ? String(error.message || error) : "";
  },

  params() {
    return new URLSearchParams(window.location.search);
  },

  /** Puts the page state in the URL (without reloading), dropping empty values. */
  setParams(values) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) {
      if (value !== null && value !== undefined && value !== "") params.set(key, value);
    }
    const query = params.toString();
    history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
  },

  fmt(value, digits) {
    return value == null ? "" : Number(value).toFixed(digits);
  },
};
