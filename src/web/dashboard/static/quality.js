"use strict";
// Data-quality page: ETL run history, one run's rejects by reason (chart), missing values, audit
// summary and rejected rows with their raw values.
(() => {
  const $ = (id) => document.getElementById(id);
  const LIMIT = 50;
  const state = { run: Number(mr.params().get("run")) || null, offset: 0 };
  let chart = null;

  async function loadRuns() {
    const page = await mr.getJson("/api/etl/runs?limit=100");
    mr.fillTable(
      document.querySelector("#runs tbody"),
      page.items.map((r) => {
        const pick = mr.el("button", { type: "button", className: "linkish" }, `#${r.run_id}`);
        pick.addEventListener("click", () => selectRun(r.run_id));
        return [pick, r.started_at.replace("T", " ").slice(0, 19), r.source, r.status + (r.error ? `: ${r.error}` : ""), ...[r.extracted, r.loaded, r.inserted, r.updated, r.unchanged, r.rejected].map(mr.count)];
      }),
    );
    return page.items;
  }

  function drawReasons(byReason) {
    const labels = Object.keys(byReason);
    const data = labels.map((k) => byReason[k]);
    const empty = data.every((n) => !n);
    $("reasons-empty").hidden = !empty;
    $("reasons").hidden = empty;
    if (empty) return;
    if (!chart) {
      chart = new Chart($("reasons"), {
        type: "bar",
        data: { labels, datasets: [{ label: "rejected rows", data, backgroundColor: "#f49d37" }] },
        options: { animation: false, maintainAspectRatio: false, indexAxis: "y", plugins: { legend: { display: false } } },
      });
    } else {
      chart.data.labels = labels;
      chart.data.datasets[0].data = data;
      chart.update("none");
    }
  }

  async function loadRejects() {
    const page = await mr.getJson(`/api/etl/runs/${state.run}/rejects?limit=${LIMIT}&offset=${state.offset}`);
    mr.fillTable(
      document.querySelector("#rejects tbody"),
      page.items.map((r) => [r.file, String(r.source_row), r.field, r.reason, r.raw_value == null ? "null" : r.raw_value, r.detail || ""]),
    );
    const last = Math.min(page.offset + page.items.length, page.total);
    $("page-info").textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : "No rejected rows";
    $("prev").disabled = page.offset === 0;
    $("next").disabled = last >= page.total;
  }

  async function selectRun(runId) {
    state.run = runId;
    state.offset = 0;
    mr.setParams({ run: runId });
    try {
      const run = await mr.getJson(`/api/etl/runs/${runId}`);
      $("run-title").textContent = `Run ${run.run_id}: ${run.source} (${run.status})`;
      drawReasons(run.rejects_by_reason);
      const audit = run.audit;
      mr.fillTable(
        document.querySelector("#nulls tbody"),
        audit ? Object.entries(audit.nulls).map(([field, n]) => [field, mr.count(n)]) : [],
      );
      const facts = [];
      if (audit) {
        const c = audit.counts;
        const n = mr.count;
        facts.push(["Extracted", n(c.extracted)], ["Rejected rows", n(c.rejected)], ["Duplicates merged", n(c.duplicates)], ["Loaded", n(c.loaded)],
          ["Inserted / updated / unchanged", `${n(c.inserted)} / ${n(c.updated)} / ${n(c.unchanged)}`]);
        if (audit.rating) facts.push(["Rating min / mean / max", `${audit.rating.min} / ${mr.fmt(audit.rating.mean, 2)} / ${audit.rating.max}`]);
        if (audit.release_year) facts.push(["Release years", `${audit.release_year.min}–${audit.release_year.max}`]);
        if (audit.ratings) {
          const r = audit.ratings;
          facts.push(["Ratings read / inserted / updated / unchanged", `${n(r.read)} / ${n(r.inserted)} / ${n(r.updated)} / ${n(r.unchanged)}`],
            ["Ratings duplicated / rejected; new users", `${n(r.duplicates)} / ${n(r.rejected)}; ${n(r.new_users)}`],
            ["Tags read / inserted", `${n(r.tags_read)} / ${n(r.tags_inserted)}`]);
        }
        facts.push(["Source sha256", audit.source_sha256]);
      } else if (run.error) {
        facts.push(["Error", run.error]);
      }
      const identity = audit && audit.identity ? audit.identity : { providers: {}, ambiguous: [] };
      mr.fillTable(
        document.querySelector("#identity tbody"),
        Object.entries(identity.providers).map(([provider, c]) =>
          [mr.SOURCES[provider] ? `${provider} (${mr.SOURCES[provider]})` : provider, ...[c.matched_by_id, c.matched_by_title, c.matched_by_near_year, c.new, c.ambiguous].map(mr.count)]),
      );
      mr.fillTable(
        document.querySelector("#ambiguous tbody"),
        identity.ambiguous.map((a) =>
          [String(a.source_row), a.title, String(a.year), (a.reason || "several").replace("_", " "),
            a.score == null ? "" : a.score.toFixed(1), a.candidates.join(", "), String(a.loaded_as)]),
      );
      $("ambiguous").hidden = identity.ambiguous.length === 0;
      $("audit").replaceChildren(...facts.flatMap(([k, v]) => [mr.el("dt", null, k), mr.el("dd", null, String(v))]));
      await loadRejects();
      mr.showError(null);
    } catch (error) {
      mr.showError(error);
    }
  }

  $("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - LIMIT);
    loadRejects().catch(mr.showError);
  });
  $("next").addEventListener("click", () => {
    state.offset += LIMIT;
    loadRejects().catch(mr.showError);
  });

  loadRuns()
    .then((runs) => {
      const chosen = state.run || (runs[0] && runs[0].run_id);
      return chosen ? selectRun(chosen) : null;
    })
    .catch(mr.showError)
    .then(() => {
      $("run").setAttribute("aria-busy", "false");
      performance.mark("movierec:ready");
    });
})();
