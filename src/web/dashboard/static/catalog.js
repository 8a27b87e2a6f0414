"use strict";
// Catalog page: search, sort and page through the movies; a movie's detail links to its neighbours.
(() => {
  const $ = (id) => document.getElementById(id);
  const LIMIT = 25;
  const params = mr.params();
  const state = {
    q: params.get("q") || "",
    genre: params.get("genre") || "",
    sort: params.get("sort") || "id",
    offset: Math.max(0, Number(params.get("offset")) || 0),
    movie: params.get("movie") || "",
  };
  $("q").value = state.q;
  $("genre").value = state.genre;
  $("sort").value = state.sort;

  function save() {
    mr.setParams({ q: state.q, genre: state.genre, sort: state.sort === "id" ? "" : state.sort, offset: state.offset || "", movie: state.movie });
  }

  function movieHref(id) {
    const p = new URLSearchParams({ movie: id });
    if (state.q) p.set("q", state.q);
    if (state.genre) p.set("genre", state.genre);
    if (state.sort !== "id") p.set("sort", state.sort);
    return `/catalog?${p}`;
  }

  /** "7.4 IMDb": the rating and whose it is; nothing for an unrated movie. */
  function rated(m) {
    if (m.rating == null) return "";
    const from = (m.rating_from || []).map((p) => mr.SOURCES[p] || p).join(" & ");
    return mr.el("span", null, mr.fmt(m.rating, 1), from ? mr.el("small", { className: "muted" }, ` ${from}`) : "");
  }

  async function loadPage() {
    save();
    const query = new URLSearchParams({ limit: LIMIT, offset: state.offset, sort: state.sort });
    if (state.q) query.set("q", state.q);
    if (state.genre) query.set("genre", state.genre);
    try {
      const page = await mr.getJson(`/api/movies?${query}`);
      mr.showError(null);
      const rows = page.items.map((m) => [
        String(m.id),
        mr.link(movieHref(m.id), m.title),
        String(m.release_year),
        rated(m),
        mr.count(m.votes),
        mr.chips(m.genre),
      ]);
      mr.fillTable(document.querySelector("#movies tbody"), rows);
      $("empty").hidden = page.items.length > 0;
      const last = Math.min(page.offset + page.items.length, page.total);
      $("page-info").textContent = page.total ? `${mr.count(page.offset + 1)}–${mr.count(last)} of ${mr.count(page.total)}` : "";
      $("prev").disabled = page.offset === 0;
      $("next").disabled = last >= page.total;
    } catch (error) {
      mr.showError(error);
    }
    $("movies-wrap").setAttribute("aria-busy", "false");
  }

  async function loadDetail() {
    const box = $("detail");
    if (!state.movie) {
      box.hidden = true;
      return;
    }
    try {
      const id = encodeURIComponent(state.movie);
      const m = await mr.getJson(`/api/movies/${id}`);
      // An unrated movie is outside the content model: it has no neighbours, only its facts.
      const similar = await mr.getJson(`/api/movies/${id}/similar?n=10`).catch(() => null);
      const facts = mr.el("dl", null);
      const names = (list, max) => (list.length > max ? `${list.slice(0, max).join(", ")} and ${list.length - max} more` : list.join(", "));
      const sourceRating = (s) =>
        `${mr.SOURCES[s.provider] || s.provider}: ${s.rating == null ? "no rating" : `${mr.fmt(s.rating, 1)}/${s.scale}`}${s.votes == null ? "" : ` (${mr.count(s.votes)} votes)`}`;
      for (const [label, value] of [
        ["Released", m.release_date || m.release_year],
        ["Rating", m.rating == null ? null : rated(m)],
        ["Votes", mr.count(m.votes)],
        ["Genres", m.genres.length ? mr.chips(m.genres.join("|")) : null],
        ["Directed by", m.directors.join(", ")],
        ["Written by", names(m.writers, 6)],
        ["Starring", names(m.cast, 10)],
        ["Runtime", m.runtime == null ? null : `${m.runtime} min`],
        ["Language", m.language_name || m.original_language],
        ["Tags", names(m.tags, 12)],
        ["Ratings by source", m.sources.map(sourceRating).join("; ")],
      ]) {
        if (value != null && value !== "") facts.append(mr.el("dt", null, label), mr.el("dd", null, value));
      }
      const links = [];
      if (m.tmdb_id) links.push(mr.el("a", { href: `https://www.themoviedb.org/movie/${m.tmdb_id}`, rel: "noopener", target: "_blank" }, "TMDB page"));
      if (m.imdb_id) links.push(mr.el("a", { href: `https://www.imdb.com/title/${m.imdb_id}/`, rel: "noopener", target: "_blank" }, "IMDb page"));
      const parts = [mr.el("h2", null, `${m.title} (${m.release_year})`)];
      if (links.length) parts.push(mr.el("p", { className: "meta" }, ...links.flatMap((l, i) => (i ? [" · ", l] : [l]))));
      if (m.overview) parts.push(mr.el("p", null, m.overview));
      parts.push(facts);
      if (similar && similar.recommendations.length) {
        parts.push(
          mr.el("h3", null, "Its nearest neighbours"),
          mr.el("ol", { className: "items" }, ...similar.recommendations.map((r, i) => mr.item(r, i + 1))),
          mr.el("p", null, mr.link(`/?id=${m.id}`, "Explore recommendations for this movie")),
        );
      }
      box.replaceChildren(...parts);
      box.hidden = false;
    } catch (error) {
      mr.showError(error);
    }
    box.setAttribute("aria-busy", "false");
  }

  $("q").addEventListener(
    "input",
    mr.debounce(() => {
      state.q = $("q").value.trim();
      state.offset = 0;
      loadPage();
    }, 200),
  );
  $("genre").addEventListener("change", () => {
    state.genre = $("genre").value;
    state.offset = 0;
    loadPage();
  });
  $("sort").addEventListener("change", () => {
    state.sort = $("sort").value;
    state.offset = 0;
    loadPage();
  });
  $("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - LIMIT);
    loadPage();
  });
  $("next").addEventListener("click", () => {
    state.offset += LIMIT;
    loadPage();
  });
  Promise.all([loadPage(), loadDetail()]).then(() => performance.mark("movierec:ready"));
})();
