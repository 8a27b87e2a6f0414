"use strict";
// Models page: every trained model with its held-out figures, the newest of each kind charted
// (NDCG@10 and Recall@20 for ranking models, RMSE for rating models) and the training history.
// A chart with nothing to show says so instead of drawing empty axes.
(() => {
  const $ = (id) => document.getElementById(id);
  const base = { animation: false, maintainAspectRatio: false };

  /** Draws `config` on canvas `id`, or shows the empty note in its place. */
  function chartOrEmpty(id, hasData, config) {
    $(`${id}-empty`).hidden = hasData;
    $(id).hidden = !hasData;
    if (hasData) new Chart($(id), config);
  }

  function render(models) {
    const serving = new Set(models.serving);
    const newest = new Map();
    for (const m of models.items) if (!newest.has(m.kind)) newest.set(m.kind, m);
    const latest = [...newest.values()];
    const ranking = latest.filter((m) => m.metrics.ndcg_at_10 != null);
    chartOrEmpty("ranking", ranking.length > 0, {
      type: "bar",
      data: {
        labels: ranking.map((m) => m.kind),
        datasets: [
          { label: "NDCG@10", data: ranking.map((m) => m.metrics.ndcg_at_10), backgroundColor: "#1f5fbf" },
          { label: "Recall@20", data: ranking.map((m) => m.metrics.recall_at_20), backgroundColor: "#f49d37" },
        ],
      },
      options: { ...base, scales: { y: { min: 0, title: { display: true, text: "held-out score" } } } },
    });
    const rating = latest.filter((m) => m.metrics.rmse != null);
    chartOrEmpty("rmse", rating.length > 0, {
      type: "bar",
      data: { labels: rating.map((m) => m.kind), datasets: [{ label: "RMSE (stars)", data: rating.map((m) => m.metrics.rmse), backgroundColor: "#d7263d" }] },
      options: { ...base, scales: { y: { min: 0, title: { display: true, text: "RMSE, lower is better" } } } },
    });
    const history = [...models.items].reverse();
    chartOrEmpty("history", history.length > 0, {
      type: "bar",
      data: {
        labels: history.map((m) => `#${m.id} ${m.kind}`),
        datasets: [{ label: "fit seconds", data: history.map((m) => m.fit_seconds), backgroundColor: "#5b6475" }],
      },
      options: { ...base, plugins: { legend: { display: false } }, scales: { y: { min: 0, title: { display: true, text: "fit time (s)" } } } },
    });
    mr.fillTable(
      document.querySelector("#models tbody"),
      models.items.map((m) => [
        `#${m.id}`,
        m.kind,
        m.trained_at.replace("T", " ").slice(0, 19),
        serving.has(m.id) ? "yes" : "no",
        String(m.ratings),
        String(m.users),
        String(m.movies),
        mr.fmt(m.metrics.ndcg_at_10, 4),
        mr.fmt(m.metrics.recall_at_20, 4),
        mr.fmt(m.metrics.rmse, 4),
        mr.fmt(m.fit_seconds, 2),
      ]),
    );
  }

  async function start() {
    try {
      render(await mr.getJson("/api/models"));
    } catch (error) {
      mr.showError(error);
    }
    performance.mark("movierec:ready");
  }
  start();
})();
