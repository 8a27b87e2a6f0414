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

  async function loadPage() {
    save();
    const query = new URLSearchParams({ limit: LIMIT, offset: state.offset, sort: state.sort });
    if (state.q) query.set("q", state.q);
    if (state.genre) query.set("genre", state.genre);
    try {
      const page = await mr.getJson(`/api/movies?${query}`);
      mr.showError(null);
      mr.fillTable(
        document.querySelector("#movies tbody"),
        page.items.map((m) => [
          String(m.id),
          mr.link(movieHref(m.id), m.title),
          String(m.release_year),
          mr.fmt(m.rating, 1),
          m.votes == null ? "" : String(m.votes),
          m.genre || "",
        ]),
      );
      const last = Math.min(page.offset + page.items.length, page.total);
      $("page-info").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "No movies match";
      $("prev").disabled = page.offset === 0;
      $("next").disabled = last >= page.total;
    } catch (error) {
      mr.showError(error);
    }
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
      const sourceRating = (s) =>
        `${s.provider}: ${s.rating == null ? "no rating" : `${mr.fmt(s.rating, 1)} / ${s.scale}`}${s.votes == null ? "" : ` (${s.votes} votes)`}`;
      for (const [label, value] of [
        ["Released", m.release_date || m.release_year],
        ["Rating", mr.fmt(m.rating, 1)],
        ["Votes", m.votes],
        ["Genres", m.genres.join(", ")],
        ["Directed by", m.directors.join(", ")],
        ["Written by", m.writers.join(", ")],
        ["Starring", m.cast.slice(0, 5).join(", ")],
        ["Runtime", m.runtime == null ? null : `${m.runtime} min`],
        ["Language", m.original_language],
        ["Tags", m.tags.join(", ")],
        ["Ratings by source", m.sources.map(sourceRating).join("; ")],
      ]) {
        if (value != null && value !== "") facts.append(mr.el("dt", null, label), mr.el("dd", null, String(value)));
      }
      const parts = [mr.el("h2", null, `${m.title} (${m.release_year})`)];
      if (m.overview) parts.push(mr.el("p", null, m.overview));
      parts.push(facts);
      if (similar) {
        parts.push(
          mr.el("h3", null, "Its nearest neighbours"),
          mr.el(
            "ol",
            null,
            ...similar.recommendations.map((r) =>
              mr.el(
                "li",
                null,
                mr.link(movieHref(r.id), r.title),
                ` (${r.release_year}, ${mr.fmt(r.rating, 1)}) · score ${mr.fmt(r.score, 4)}`,
                r.reason ? mr.el("span", { className: "reason" }, ` — ${r.reason}`) : "",
              ),
            ),
          ),
          mr.el("p", null, mr.link(`/?id=${m.id}`, "Explore recommendations for this movie")),
        );
      }
      box.replaceChildren(...parts);
      box.hidden = false;
    } catch (error) {
      mr.showError(error);
    }
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
