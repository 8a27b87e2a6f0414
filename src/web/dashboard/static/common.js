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

  /**
   * A whole count with thousands separators: 12,345. Not `toLocaleString`/`Intl`: loading the
   * locale data cost the page 20–30 ms before its first number.
   */
  count(value) {
    return value == null ? "" : String(Math.round(Number(value))).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  },

  /** Stars as people write them: 4, 4.5. */
  stars(value) {
    return `${Number(value)}★`;
  },

  /**
   * A title search with suggestions (the catalog's forgiving search, most voted first):
   * typing suggests, Enter picks the first, the arrow keys walk the list, Escape closes it.
   */
  titleSearch(input, list, onChoose) {
    const choose = (movie) => {
      list.replaceChildren();
      onChoose(movie);
    };
    const suggest = mr.debounce(async () => {
      const q = input.value.trim();
      if (!q) {
        list.replaceChildren();
        return;
      }
      try {
        const page = await mr.getJson(`/api/movies?${new URLSearchParams({ q, limit: 8, sort: "-votes" })}`);
        mr.showError(null);
        list.replaceChildren(
          ...page.items.map((m) => {
            const button = mr.el("button", { type: "button", className: "suggestion" }, `${m.title} (${m.release_year})`);
            button.dataset.id = String(m.id);
            button.addEventListener("click", () => choose(m));
            return mr.el("li", { role: "option" }, button);
          }),
        );
        if (!page.items.length) list.append(mr.el("li", { className: "none" }, "No title matches"));
      } catch (error) {
        list.replaceChildren();
        mr.showError(error);
      }
    }, 120);
    input.addEventListener("input", suggest);
    input.addEventListener("keydown", (event) => {
      const first = list.querySelector("button");
      if (event.key === "Enter" && first) {
        event.preventDefault();
        first.click();
      } else if (event.key === "ArrowDown" && first) {
        event.preventDefault();
        first.focus();
      } else if (event.key === "Escape") {
        list.replaceChildren();
      }
    });
    list.addEventListener("keydown", (event) => {
      const item = event.target.closest("li");
      if (!item) return;
      const next = event.key === "ArrowDown" ? item.nextElementSibling : event.key === "ArrowUp" ? item.previousElementSibling : null;
      if (next && next.querySelector("button")) {
        event.preventDefault();
        next.querySelector("button").focus();
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        input.focus();
      } else if (event.key === "Escape") {
        list.replaceChildren();
        input.focus();
      }
    });
  },

  /** Who gave a catalog rating, as people name them (vega's ratings are IMDb's). */
  SOURCES: { vega: "IMDb", tmdb: "TMDB", movielens: "MovieLens", file: "your file" },

  /**
   * One recommended movie: its rank, title (to its catalog page), year, genres as chips, the
   * catalog rating and who gave it, the predicted stars of a rating model, links to its TMDB and
   * IMDb pages, and the reason. `extra` nodes go last (a "Not interested" button).
   */
  item(r, rank, ...extra) {
    const meta = [];
    if (r.rating != null) {
      const from = (r.rating_from || []).map((p) => mr.SOURCES[p] || p);
      meta.push(mr.el("span", null, `${mr.fmt(r.rating, 1)}/10${from.length ? ` on ${from.join(" & ")}` : ""}${r.votes ? ` (${mr.count(r.votes)} votes)` : ""}`));
    }
    if (r.predicted_rating != null) meta.push(mr.el("span", { className: "predicted" }, `you'd give it about ${mr.stars(Math.round(r.predicted_rating * 2) / 2)}`));
    if (r.tmdb_id) meta.push(mr.el("a", { href: `https://www.themoviedb.org/movie/${r.tmdb_id}`, rel: "noopener", target: "_blank" }, "TMDB"));
    if (r.imdb_id) meta.push(mr.el("a", { href: `https://www.imdb.com/title/${r.imdb_id}/`, rel: "noopener", target: "_blank" }, "IMDb"));
    const li = mr.el(
      "li",
      { className: "item" },
      mr.el("span", { className: "rank", ariaHidden: "true" }, String(rank)),
      mr.el(
        "div",
        { className: "item-body" },
        mr.el("span", { className: "item-title" }, mr.link(`/catalog?movie=${r.id}`, r.title), " ", mr.el("span", { className: "year" }, String(r.release_year))),
        mr.chips(r.genre),
        meta.length ? mr.el("span", { className: "meta" }, ...meta.flatMap((m, i) => (i ? [" · ", m] : [m]))) : "",
        r.reason ? mr.el("span", { className: "reason" }, r.reason) : "",
        ...extra,
      ),
    );
    li.dataset.id = String(r.id);
    return li;
  },
};
