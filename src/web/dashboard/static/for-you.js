"use strict";
// For-you page: rate films from groups of popular films per genre (stars are radio buttons, so
// the keyboard works as everywhere else), and the recommendations follow every rating. The
// ratings live in localStorage and in the URL (`rated=ID:STARS,…`); nothing is sent anywhere
// but to POST /api/recommendations, which stores nothing.
(() => {
  const $ = (id) => document.getElementById(id);
  const STORE = "movierec.for-you.ratings";
  const GROUPS = 6;
  const PER_GROUP = 6;
  const filters = { genre: $("genre"), year_from: $("year-from"), year_to: $("year-to"), min_rating: $("min-rating"), model: $("model") };
  const hideRated = $("hide-rated");
  /** movie id → { stars, title, year } */
  const ratings = new Map();
  let generation = 0;

  function filterValues() {
    const out = {};
    for (const [key, input] of Object.entries(filters)) out[key] = input.value.trim();
    return out;
  }

  function save() {
    const list = [...ratings.entries()].map(([id, r]) => ({ id, ...r }));
    try {
      localStorage.setItem(STORE, JSON.stringify(list));
    } catch {
      // Private mode or a full quota: the URL still holds the ratings.
    }
    mr.setParams({
      rated: list.map((r) => `${r.id}:${r.stars}`).join(","),
      ...filterValues(),
      hide: hideRated.checked ? "1" : "",
    });
  }

  /** The star control of one film: five radio buttons in a fieldset named after the film. */
  function stars(movie) {
    const name = `stars-${movie.id}`;
    const box = mr.el("fieldset", { className: "stars" }, mr.el("legend", { className: "visually-hidden" }, `Your rating of ${movie.title} (${movie.release_year})`));
    for (let s = 1; s <= 5; s++) {
      const input = mr.el("input", { type: "radio", name, id: `${name}-${s}`, value: String(s), className: "visually-hidden" });
      input.checked = ratings.get(movie.id)?.stars === s;
      input.addEventListener("change", () => rate(movie, s));
      const label = mr.el("label", { htmlFor: input.id, title: `${s} star${s > 1 ? "s" : ""}` }, mr.el("span", { className: "visually-hidden" }, `${s} star${s > 1 ? "s" : ""}`));
      box.append(input, label);
    }
    return box;
  }


  function card(movie) {
    const li = mr.el("li", { className: "card" }, mr.el("span", { className: "card-title" }, `${movie.title} (${movie.release_year})`), mr.chips(movie.genre), stars(movie));
    li.dataset.id = String(movie.id);
    return li;
  }

  function applyHide() {
    for (const li of document.querySelectorAll("#groups .card")) {
      li.hidden = hideRated.checked && ratings.has(Number(li.dataset.id));
    }
  }

  async function loadGroups() {
    const genres = (await mr.getJson("/api/genres")).filter((g) => g.movies > 0).sort((a, b) => b.movies - a.movies).slice(0, GROUPS);
    const lists = await Promise.all(genres.map((g) => mr.getJson(`/api/movies/popular?${new URLSearchParams({ genre: g.name, n: 2 * PER_GROUP })}`)));
    const seen = new Set();
    const groups = genres.map((g, i) => {
      // A film in several genres is offered once, in its first group.
      const movies = lists[i].items.filter((m) => !seen.has(m.id)).slice(0, PER_GROUP);
      for (const m of movies) seen.add(m.id);
      const heading = mr.el("h3", { id: `group-${i}` }, g.name);
      const list = mr.el("ul", { className: "cards" }, ...movies.map(card));
      list.setAttribute("aria-labelledby", heading.id);
      return mr.el("section", { className: "group" }, heading, list);
    });
    if (!groups.length) groups.push(mr.el("p", { className: "empty" }, "The catalog is empty: load movies with movierec etl."));
    $("groups").replaceChildren(...groups);
    $("groups").setAttribute("aria-busy", "false");
    applyHide();
  }

  function renderRated() {
    $("rated-count").textContent = String(ratings.size);
    $("clear").disabled = ratings.size === 0;
    $("rated").replaceChildren(
      ...[...ratings.entries()].map(([id, r]) => {
        const remove = mr.el("button", { type: "button", className: "linkish" }, "remove");
        remove.setAttribute("aria-label", `Remove your rating of ${r.title}`);
        remove.addEventListener("click", () => unrate(id));
        return mr.el("li", null, `${r.title} ${r.year ? `(${r.year}) ` : ""}— ${"★".repeat(r.stars)} `, remove);
      }),
    );
  }

  async function update() {
    save();
    renderRated();
    const mine = ++generation;
    const body = { ratings: [...ratings.entries()].map(([movie_id, r]) => ({ movie_id, rating: r.stars })), n: 12 };
    for (const [key, value] of Object.entries(filterValues())) {
      if (!value) continue;
      body[key] = ["year_from", "year_to", "min_rating"].includes(key) ? Number(value) : value;
    }
    try {
      const response = await fetch("/api/recommendations", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      });
      const result = await response.json().catch(() => null);
      if (mine !== generation) return; // a newer rating is on its way
      if (!response.ok) throw new Error(result && result.detail ? result.detail : `HTTP ${response.status}`);
      mr.showError(null);
      render(result);
      performance.mark("movierec:list-updated");
      if (performance.getEntriesByName("movierec:rated", "mark").length) {
        performance.measure("movierec:rate-to-list", "movierec:rated", "movierec:list-updated");
        performance.clearMarks("movierec:rated");
      }
    } catch (error) {
      if (mine === generation) mr.showError(error);
    }
  }

  function render(result) {
    $("status").textContent = result.notice
      ? result.notice
      : `Made by ${result.model} from your ${result.rated} rating${result.rated === 1 ? "" : "s"}:`;
    $("picks").replaceChildren(
      ...result.recommendations.map((r) => {
        const li = mr.el(
          "li",
          { className: "pick-item" },
          mr.el("span", { className: "card-title" }, mr.link(`/?id=${r.id}`, r.title), ` (${r.release_year})`),
          mr.chips(r.genre),
          mr.el("span", { className: "reason" }, r.reason),
        );
        li.dataset.id = String(r.id);
        return li;
      }),
    );
  }

  function rate(movie, s) {
    performance.clearMarks("movierec:rated");
    performance.mark("movierec:rated");
    ratings.set(movie.id, { stars: s, title: movie.title, year: movie.release_year });
    applyHide();
    update();
  }

  function unrate(id) {
    ratings.delete(id);
    for (const input of document.querySelectorAll(`input[name="stars-${id}"]`)) input.checked = false;
    applyHide();
    update();
  }

  $("clear").addEventListener("click", () => {
    for (const id of [...ratings.keys()]) {
      for (const input of document.querySelectorAll(`input[name="stars-${id}"]`)) input.checked = false;
    }
    ratings.clear();
    applyHide();
    update();
  });
  hideRated.addEventListener("change", () => {
    applyHide();
    save();
  });
  const refilter = mr.debounce(update, 250);
  for (const input of Object.values(filters)) input.addEventListener("input", refilter);

  /** Ratings from the URL (a shared link wins), else from this browser. */
  async function restore() {
    const params = mr.params();
    for (const [key, input] of Object.entries(filters)) {
      const value = params.get(key);
      if (value !== null && (input.tagName !== "SELECT" || [...input.options].some((o) => o.value === value))) input.value = value;
    }
    hideRated.checked = params.get("hide") === "1";
    let list = [];
    if (params.get("rated")) {
      list = params
        .get("rated")
        .split(",")
        .map((pair) => pair.split(":").map(Number))
        .filter(([id, s]) => Number.isInteger(id) && id > 0 && Number.isInteger(s) && s >= 1 && s <= 5)
        .map(([id, stars]) => ({ id, stars }));
    } else {
      try {
        list = JSON.parse(localStorage.getItem(STORE) || "[]");
      } catch {
        list = [];
      }
    }
    const missing = list.filter((r) => !r.title);
    const titled = await Promise.all(missing.map((r) => mr.getJson(`/api/movies/${r.id}`).catch(() => null)));
    missing.forEach((r, i) => {
      if (titled[i]) Object.assign(r, { title: titled[i].title, year: titled[i].release_year });
    });
    for (const r of list) {
      if (r.title && Number.isInteger(r.stars)) ratings.set(r.id, { stars: r.stars, title: r.title, year: r.year });
    }
  }

  async function start() {
    try {
      await restore();
      await Promise.all([loadGroups(), update()]);
    } catch (error) {
      mr.showError(error);
    }
    performance.mark("movierec:ready");
  }
  start();
})();
