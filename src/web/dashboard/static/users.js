"use strict";
// Users page: the users of the loaded ratings, one user's history and their recommendations
// with reasons (GET /api/users/{id}/recommendations).
(() => {
  const $ = (id) => document.getElementById(id);
  const HISTORY = 50;
  const PAGE = 20;
  let offset = Math.max(0, Number(mr.params().get("offset")) || 0);
  const state = { id: Number(mr.params().get("id")) || null };
  let generation = 0;


  /** One page of the users, with the pager under it. */
  async function loadUsers() {
    const page = await mr.getJson(`/api/users?limit=${PAGE}&offset=${offset}`).finally(() => $("users-wrap").setAttribute("aria-busy", "false"));
    // Without users the empty state takes the table's place (and the pager's).
    $("users-empty").hidden = page.total > 0;
    $("users-wrap").hidden = page.total === 0;
    $("pager").hidden = page.total === 0;
    $("page-info").textContent = page.total ? `${mr.count(offset + 1)}–${mr.count(offset + page.items.length)} of ${mr.count(page.total)} users` : "";
    $("prev").disabled = offset === 0;
    $("next").disabled = offset + page.items.length >= page.total;
    mr.fillTable(
      document.querySelector("#users tbody"),
      page.items.map((u) => [mr.link(`/users?id=${u.id}`, `#${u.id}`), u.dataset, String(u.external_id), mr.count(u.ratings), mr.fmt(u.mean_rating, 2)]),
    );
  }

  async function show() {
    if (!state.id) {
      $("recs").setAttribute("aria-busy", "false");
      return;
    }
    mr.setParams({ id: state.id, model: $("model").value, genre: $("genre").value });
    $("user-id").value = String(state.id);
    const mine = ++generation;
    const params = new URLSearchParams({ n: 10, model: $("model").value });
    if ($("genre").value) params.set("genre", $("genre").value);
    try {
      const [history, recs] = await Promise.all([
        mr.getJson(`/api/users/${state.id}`),
        mr.getJson(`/api/users/${state.id}/recommendations?${params}`),
      ]);
      if (mine !== generation) return;
      mr.showError(null);
      const u = history.user;
      $("user-title").textContent = `User #${u.id} (${u.dataset} user ${u.external_id}): ${u.ratings} ratings, ${mr.fmt(u.mean_rating, 2)} stars on average. ${recs.notice || `Recommended by ${recs.model}:`}`;
      $("recs").replaceChildren(...recs.recommendations.map((r, i) => mr.item(r, i + 1)));
      $("recs-empty").hidden = recs.recommendations.length > 0;
      $("recs-empty").textContent = "Nothing passes this filter.";
      const shown = history.ratings.slice(0, HISTORY);
      mr.fillTable(
        document.querySelector("#history tbody"),
        shown.map((r) => [mr.link(`/?id=${r.movie_id}`, r.title), String(r.release_year), `${r.rating} ★`, r.rated_at.slice(0, 10)]),
      );
      $("history-title").textContent = history.ratings.length > HISTORY ? `What they rated (latest ${HISTORY} of ${history.ratings.length})` : "What they rated";
    } catch (error) {
      if (mine === generation) mr.showError(error);
    }
    if (mine === generation) $("recs").setAttribute("aria-busy", "false");
  }

  $("pick-user").addEventListener("submit", (event) => {
    event.preventDefault();
    state.id = Number($("user-id").value) || null;
    show();
  });
  for (const id of ["model", "genre"]) $(id).addEventListener("change", show);
  for (const [id, step] of [["prev", -PAGE], ["next", PAGE]]) {
    $(id).addEventListener("click", () => {
      offset = Math.max(0, offset + step);
      loadUsers().catch(mr.showError);
    });
  }

  async function start() {
    const params = mr.params();
    for (const id of ["model", "genre"]) {
      const value = params.get(id);
      if (value !== null && [...$(id).options].some((o) => o.value === value)) $(id).value = value;
    }
    try {
      await Promise.all([loadUsers(), show()]);
    } catch (error) {
      mr.showError(error);
    }
    performance.mark("movierec:ready");
  }
  start();
})();
