"use strict";
// For-you page: rate any film in half stars — found by title, or from groups of popular films
// per genre and decade — and the recommendations follow every rating. A star rating is a native
// range input (0–5 in halves; 0 is "not rated"), so the keyboard, touch and screen readers work
// as with any slider. The ratings and the films marked "not interested" live in localStorage
// and in the URL (`rated=ID:STARS,…`, `hidden=ID,…`); nothing is sent anywhere but to
// POST /api/recommendations, which stores nothing. Ratings move between devices as a CSV file.
(() => {
  const $ = (id) => document.getElementById(id);
  const STORE = "movierec.for-you.ratings";
  const HIDDEN = "movierec.for-you.hidden";
  const GROUPS = 6;
  const PER_GROUP = 6;
  const PICKS = 12;
  /** The most `/api/movies/popular` lists: "More" offers up to this many films per genre. */
  const POPULAR_MAX = 100;
  /** What POST /api/recommendations accepts, and so what a CSV may hold. */
  const MAX_RATINGS = 1000;
  const MAX_CSV_BYTES = 1 << 20;
  const filters = { genre: $("genre"), year_from: $("year-from"), year_to: $("year-to"), min_rating: $("min-rating"), model: $("model") };
  const hideRated = $("hide-rated");
  /** movie id → { stars, title, year } */
  const ratings = new Map();
  /** movie id → { title, year }: "not interested". */
  const hidden = new Map();
  let generation = 0;

  function filterValues() {
    const out = {};
    for (const [key, input] of Object.entries(filters)) out[key] = input.value.trim();
    return out;
  }

  function save() {
    const list = [...ratings.entries()].map(([id, r]) => ({ id, ...r }));
    const dismissed = [...hidden.entries()].map(([id, m]) => ({ id, ...m }));
    try {
      localStorage.setItem(STORE, JSON.stringify(list));
      localStorage.setItem(HIDDEN, JSON.stringify(dismissed));
    } catch {
      // Private mode or a full quota: the URL still holds them.
    }
    mr.setParams({
      rated: list.map((r) => `${r.id}:${r.stars}`).join(","),
      hidden: dismissed.map((m) => m.id).join(","),
      ...filterValues(),
      hide: hideRated.checked ? "1" : "",
    });
  }

  const validStars = (s) => Number.isFinite(s) && s >= 0.5 && s <= 5 && Number.isInteger(s * 2);
  const starText = (s) => (s ? `${s} star${s === 1 ? "" : "s"}` : "not rated");

  /**
   * The star control of one film: a range input over five drawn stars. Moving it redraws the
   * stars; letting go (or a key) rates; 0 removes the rating.
   */
  function starControl(movie) {
    const id = `stars-${movie.id}`;
    const value = ratings.get(movie.id)?.stars || 0;
    const fill = mr.el("span", { className: "star-fill" }, "★★★★★");
    const input = mr.el("input", { type: "range", id, min: "0", max: "5", step: "0.5", value: String(value), className: "star-input" });
    input.dataset.movie = String(movie.id);
    const said = mr.el("output", { className: "star-value", htmlFor: id }, starText(value));
    const draw = () => {
      const v = Number(input.value);
      fill.style.width = `${v * 20}%`;
      input.setAttribute("aria-valuetext", starText(v));
      said.textContent = starText(v);
    };
    input.addEventListener("input", draw);
    input.addEventListener("change", () => {
      const v = Number(input.value);
      if (v === 0) unrate(movie.id);
      else rate(movie, v);
    });
    draw();
    const label = mr.el("label", { htmlFor: id, className: "visually-hidden" }, `Your rating of ${movie.title} (${movie.release_year ?? movie.year})`);
    const bar = mr.el("span", { className: "star-bar", ariaHidden: "true" }, "★★★★★", fill);
    return mr.el("div", { className: "star-control" }, label, mr.el("span", { className: "star-box" }, bar, input), said);
  }

  function card(movie) {
    const li = mr.el("li", { className: "card" }, mr.el("span", { className: "card-title" }, `${movie.title} (${movie.release_year})`), mr.chips(movie.genre), starControl(movie));
    li.dataset.id = String(movie.id);
    li.classList.toggle("is-rated", ratings.has(movie.id));
    return li;
  }

  /** Every star control of a film on the page shows its current rating. */
  function redraw(id) {
    const stars = ratings.get(id)?.stars || 0;
    for (const input of document.querySelectorAll(`input.star-input[data-movie="${id}"]`)) {
      input.value = String(stars);
      input.dispatchEvent(new Event("input"));
      input.closest(".card")?.classList.toggle("is-rated", stars > 0);
    }
  }

  function applyHide() {
    for (const li of document.querySelectorAll("#groups .card")) {
      li.hidden = hideRated.checked && ratings.has(Number(li.dataset.id));
    }
  }

  /** The decade the groups are drawn from, as a year range. */
  function decade() {
    const from = Number($("decade").value);
    return from ? { year_from: from, year_to: from + 9 } : {};
  }

  /**
   * The most voted films of `genre` in the chosen decade from `offset` on: the engine's
   * in-memory popularity order (`/api/movies/popular`, up to its 100), not a sort of the whole
   * catalog per group (seconds at a million movies).
   */
  async function popularPage(genre, offset) {
    const n = Math.min(POPULAR_MAX, offset + 3 * PER_GROUP);
    const page = await mr.getJson(`/api/movies/popular?${new URLSearchParams({ genre, n, ...decade() })}`);
    return { items: page.items.slice(offset), total: page.items.length < n ? page.items.length : POPULAR_MAX };
  }

  /** The first `PER_GROUP` films of a page not yet offered on the page, and where to go on. */
  function offer(page, offered, offset) {
    const movies = page.items.filter((m) => !offered.has(m.id)).slice(0, PER_GROUP);
    for (const m of movies) offered.add(m.id);
    return { movies, next: offset + page.items.length, done: offset + page.items.length >= page.total };
  }

  async function loadGroups() {
    $("groups").setAttribute("aria-busy", "true");
    const genres = (await mr.getJson("/api/genres")).filter((g) => g.movies > 0).sort((a, b) => b.movies - a.movies).slice(0, GROUPS);
    const offered = new Set();
    const pages = await Promise.all(genres.map((g) => popularPage(g.name, 0)));
    // In order, so a film in several genres is offered once, in its first group.
    const firsts = pages.map((page) => offer(page, offered, 0));
    const groups = genres.map((g, i) => {
      let { next, done } = firsts[i];
      const heading = mr.el("h3", { id: `group-${i}` }, g.name);
      const list = mr.el("ul", { className: "cards" }, ...firsts[i].movies.map(card));
      list.setAttribute("aria-labelledby", heading.id);
      const more = mr.el("button", { type: "button", className: "more" }, `More ${g.name.toLowerCase()} films`);
      more.hidden = done || !firsts[i].movies.length;
      more.addEventListener("click", async () => {
        more.disabled = true;
        try {
          const page = offer(await popularPage(g.name, next), offered, next);
          ({ next, done } = page);
          list.append(...page.movies.map(card));
          more.hidden = done;
          applyHide();
          list.querySelector(`li:nth-last-child(${page.movies.length}) input`)?.focus();
        } catch (error) {
          mr.showError(error);
        }
        more.disabled = false;
      });
      const empty = firsts[i].movies.length ? "" : mr.el("p", { className: "empty" }, `No ${g.name.toLowerCase()} films from then.`);
      return mr.el("section", { className: "group" }, heading, list, empty, more);
    });
    if (!groups.length) groups.push(mr.el("p", { className: "empty" }, "The catalog is empty: load movies with movierec etl."));
    $("groups").replaceChildren(...groups);
    $("groups").setAttribute("aria-busy", "false");
    applyHide();
  }

  function renderLists() {
    $("rated-count").textContent = String(ratings.size);
    $("jump-rated").textContent = `${ratings.size} rated`;
    $("clear").disabled = ratings.size === 0;
    $("export").disabled = ratings.size === 0;
    $("rated").replaceChildren(
      ...[...ratings.entries()].map(([id, r]) => {
        const remove = mr.el("button", { type: "button", className: "linkish" }, "remove");
        remove.setAttribute("aria-label", `Remove your rating of ${r.title}`);
        remove.addEventListener("click", () => unrate(id));
        return mr.el("li", null, `${r.title} ${r.year ? `(${r.year}) ` : ""}— ${mr.stars(r.stars)} `, remove);
      }),
    );
    $("hidden-count").textContent = String(hidden.size);
    $("hidden").replaceChildren(
      ...[...hidden.entries()].map(([id, m]) => {
        const undo = mr.el("button", { type: "button", className: "linkish" }, "show again");
        undo.setAttribute("aria-label", `Show ${m.title} in your recommendations again`);
        undo.addEventListener("click", () => {
          hidden.delete(id);
          update();
        });
        return mr.el("li", null, `${m.title} ${m.year ? `(${m.year}) ` : ""}`, undo);
      }),
    );
  }

  async function update() {
    save();
    renderLists();
    const mine = ++generation;
    const body = {
      ratings: [...ratings.entries()].map(([movie_id, r]) => ({ movie_id, rating: r.stars })),
      exclude: [...hidden.keys()],
      n: PICKS,
    };
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
        $("feedback").textContent += " Your list is updated.";
      }
    } catch (error) {
      if (mine === generation) mr.showError(error);
    }
  }

  function render(result) {
    $("status").textContent = result.notice
      ? result.notice
      : `Made by ${result.model} from your ${result.rated} rating${result.rated === 1 ? "" : "s"}:`;
    $("jump-picks").textContent = String(result.recommendations.length);
    $("picks").replaceChildren(
      ...result.recommendations.map((r, i) => {
        const dismiss = mr.el("button", { type: "button", className: "dismiss" }, "Not interested");
        dismiss.setAttribute("aria-label", `Not interested in ${r.title}`);
        dismiss.addEventListener("click", () => {
          hidden.set(r.id, { title: r.title, year: r.release_year });
          $("feedback").textContent = `${r.title} will not be recommended again.`;
          update();
        });
        return mr.item(r, i + 1, dismiss);
      }),
    );
    if (!result.recommendations.length) $("picks").append(mr.el("li", { className: "empty" }, "Nothing passes these filters: widen them."));
    $("picks").setAttribute("aria-busy", "false");
  }

  function rate(movie, stars) {
    performance.clearMarks("movierec:rated");
    performance.mark("movierec:rated");
    const title = movie.title;
    ratings.set(movie.id, { stars, title, year: movie.release_year ?? movie.year });
    $("feedback").textContent = `You rated ${title} ${mr.stars(stars)}.`;
    redraw(movie.id);
    applyHide();
    update();
  }

  function unrate(id) {
    const title = ratings.get(id)?.title;
    ratings.delete(id);
    if (title) $("feedback").textContent = `Your rating of ${title} is removed.`;
    redraw(id);
    applyHide();
    update();
  }

  mr.titleSearch($("rate-search"), $("rate-suggestions"), (movie) => {
    $("rate-search").value = "";
    let li = $("found").querySelector(`li[data-id="${movie.id}"]`);
    if (!li) {
      li = card(movie);
      $("found").prepend(li);
    }
    li.querySelector("input").focus();
  });

  $("clear").addEventListener("click", () => {
    const ids = [...ratings.keys()];
    ratings.clear();
    for (const id of ids) redraw(id);
    $("feedback").textContent = "All your ratings are removed.";
    applyHide();
    update();
  });

  /** The ratings as CSV: movie_id,title,year,rating (titles quoted as RFC 4180 says). */
  function toCsv() {
    const quote = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const rows = [...ratings.entries()].map(([id, r]) => [id, quote(r.title), r.year ?? "", r.stars].join(","));
    return ["movie_id,title,year,rating", ...rows].join("\r\n") + "\r\n";
  }

  $("export").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([toCsv()], { type: "text/csv" }));
    const a = mr.el("a", { href: url, download: "movierec-ratings.csv" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    $("feedback").textContent = `Saved ${ratings.size} rating${ratings.size === 1 ? "" : "s"} as movierec-ratings.csv.`;
  });

  /** RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks. */
  function parseCsv(text) {
    const records = [];
    let field = "";
    let record = [];
    let quoted = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') {
          field += '"';
          i++;
        } else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"') quoted = true;
      else if (c === ",") {
        record.push(field);
        field = "";
      } else if (c === "\n" || c === "\r") {
        if (c === "\r" && text[i + 1] === "\n") i++;
        record.push(field);
        records.push(record);
        record = [];
        field = "";
      } else field += c;
    }
    if (quoted) throw new Error("the file ends inside a quoted field");
    if (field !== "" || record.length) {
      record.push(field);
      records.push(record);
    }
    return records.filter((r) => r.some((f) => f.trim() !== ""));
  }

  /** The ratings a CSV holds, or an error naming the line and field: nothing is kept on error. */
  function ratingsFromCsv(text) {
    const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ""));
    if (!header) throw new Error("the file is empty");
    const names = header.map((h) => h.trim().toLowerCase());
    const col = (...want) => names.findIndex((n) => want.includes(n));
    const idCol = col("movie_id", "movieid", "id");
    const starsCol = col("rating", "stars");
    if (idCol < 0 || starsCol < 0) throw new Error(`line 1: expected the columns movie_id and rating (as "Save as CSV" writes them), found ${names.join(", ") || "none"}`);
    if (rows.length > MAX_RATINGS) throw new Error(`the file holds ${mr.count(rows.length)} ratings; at most ${mr.count(MAX_RATINGS)} can be used`);
    const titleCol = col("title");
    const yearCol = col("year", "release_year");
    const out = new Map();
    rows.forEach((r, i) => {
      const line = i + 2;
      const id = Number(r[idCol]);
      const stars = Number(r[starsCol]);
      if (!Number.isInteger(id) || id < 1) throw new Error(`line ${line}: movie_id ${JSON.stringify(r[idCol] ?? "")} is not a movie id`);
      if (!validStars(stars)) throw new Error(`line ${line}: rating ${JSON.stringify(r[starsCol] ?? "")} is not 0.5–5 stars in halves`);
      if (out.has(id)) throw new Error(`line ${line}: movie ${id} is rated twice`);
      out.set(id, { stars, title: titleCol >= 0 ? r[titleCol] : "", year: yearCol >= 0 ? Number(r[yearCol]) || null : null });
    });
    return out;
  }

  $("import").addEventListener("change", async () => {
    const file = $("import").files[0];
    $("import").value = "";
    if (!file) return;
    try {
      if (file.size > MAX_CSV_BYTES) throw new Error(`${file.name} is ${mr.count(file.size)} bytes; a ratings file may be at most 1 MiB`);
      const loaded = ratingsFromCsv(await file.text());
      // The catalog must know every film: the API names any it does not, and nothing changes.
      const check = await fetch("/api/recommendations", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ ratings: [...loaded.entries()].map(([movie_id, r]) => ({ movie_id, rating: r.stars })), n: 1 }),
      });
      if (!check.ok) {
        const problem = await check.json().catch(() => null);
        throw new Error(problem && problem.detail ? problem.detail : `HTTP ${check.status}`);
      }
      const untitled = [...loaded.entries()].filter(([, r]) => !r.title).slice(0, 50);
      const titled = await Promise.all(untitled.map(([id]) => mr.getJson(`/api/movies/${id}`).catch(() => null)));
      untitled.forEach(([, r], i) => {
        if (titled[i]) Object.assign(r, { title: titled[i].title, year: titled[i].release_year });
      });
      for (const [id, r] of loaded) {
        ratings.set(id, { stars: r.stars, title: r.title || `movie ${id}`, year: r.year });
        redraw(id);
      }
      mr.showError(null);
      $("feedback").textContent = `Loaded ${loaded.size} rating${loaded.size === 1 ? "" : "s"} from ${file.name}.`;
      applyHide();
      update();
    } catch (error) {
      mr.showError(new Error(`${file.name} was not loaded, your ratings are as they were: ${error.message}`));
    }
  });

  hideRated.addEventListener("change", () => {
    applyHide();
    save();
  });
  $("decade").addEventListener("change", () => loadGroups().catch(mr.showError));
  const refilter = mr.debounce(update, 250);
  for (const input of Object.values(filters)) input.addEventListener("input", refilter);

  function stored(key) {
    try {
      return JSON.parse(localStorage.getItem(key) || "[]");
    } catch {
      return [];
    }
  }

  /** Ratings from the URL (a shared link wins), else from this browser. */
  async function restore() {
    const params = mr.params();
    for (const [key, input] of Object.entries(filters)) {
      const value = params.get(key);
      if (value !== null && (input.tagName !== "SELECT" || [...input.options].some((o) => o.value === value))) input.value = value;
    }
    hideRated.checked = params.get("hide") === "1";
    let list = stored(STORE);
    if (params.get("rated")) {
      list = params
        .get("rated")
        .split(",")
        .map((pair) => pair.split(":").map(Number))
        .filter(([id, s]) => Number.isInteger(id) && id > 0 && validStars(s))
        .map(([id, stars]) => ({ id, stars }));
    }
    let dismissed = stored(HIDDEN);
    if (params.get("hidden")) {
      dismissed = params
        .get("hidden")
        .split(",")
        .map(Number)
        .filter((id) => Number.isInteger(id) && id > 0)
        .map((id) => ({ id }));
    }
    const missing = [...list, ...dismissed].filter((r) => !r.title).slice(0, 100);
    const titled = await Promise.all(missing.map((r) => mr.getJson(`/api/movies/${r.id}`).catch(() => null)));
    missing.forEach((r, i) => {
      if (titled[i]) Object.assign(r, { title: titled[i].title, year: titled[i].release_year });
    });
    for (const r of list) {
      if (r.title && validStars(r.stars)) ratings.set(r.id, { stars: r.stars, title: r.title, year: r.year });
    }
    for (const m of dismissed) {
      if (m.title) hidden.set(m.id, { title: m.title, year: m.year });
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
