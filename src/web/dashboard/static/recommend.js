"use strict";
// Recommend page: pick a movie, move the slider, see the recommendations and where they sit in
// the catalog (rating against release year, the model's two features).
(() => {
  const $ = (id) => document.getElementById(id);
  const search = $("title-search");
  const suggestions = $("suggestions");
  const slider = $("n");
  const sliderValue = $("n-value");
  const filters = { year_from: $("year-from"), year_to: $("year-to"), min_rating: $("min-rating"), model: $("model") };
  const list = $("recs");
  const state = { id: null, n: 10 };
  let chart = null;
  let generation = 0;

  function filterValues() {
    const out = {};
    for (const [key, input] of Object.entries(filters)) out[key] = input.value.trim();
    return out;
  }

  function saveState() {
    mr.setParams({ id: state.id, n: state.id ? state.n : null, ...filterValues() });
  }

  function makeChart(points) {
    // Below the chart: text that arrives with the points shifts nothing the reader sees.
    if (points.sampled) {
      $("chart-sample").textContent = `An even sample of ${mr.count(points.id.length)} of the ${mr.count(points.total)} rated movies.`;
    }
    const catalog = points.id.map((id, i) => ({ x: points.release_year[i], y: points.rating[i], id, title: points.title[i] }));
    chart = new Chart($("scatter"), {
      type: "scatter",
      data: {
        datasets: [
          { label: "selected movie", data: [], order: 0, pointRadius: 7, backgroundColor: "#d7263d" },
          { label: "recommendations", data: [], order: 1, pointRadius: 5, backgroundColor: "#f49d37" },
          { label: "catalog", data: catalog, order: 2, pointRadius: 2, backgroundColor: "rgba(90, 100, 120, 0.3)" },
        ],
      },
      options: {
        animation: false,
        normalized: true,
        maintainAspectRatio: false,
        scales: {
          x: { title: { display: true, text: "release year" }, ticks: { callback: (v) => String(v) } },
          y: { title: { display: true, text: "rating" }, min: 0, max: 10 },
        },
        plugins: {
          tooltip: { callbacks: { label: (ctx) => `${ctx.raw.title} (${ctx.raw.x}), ${ctx.raw.y}` } },
        },
      },
    });
  }

  /** What the chart highlights: kept for a chart drawn later. */
  const shown = { movie: null, recommendations: [] };

  function highlight(movie, recommendations) {
    Object.assign(shown, { movie, recommendations });
    if (!chart) return;
    const point = (m) => ({ x: m.release_year, y: m.rating, id: m.id, title: m.title });
    chart.data.datasets[0].data = movie ? [point(movie)] : [];
    chart.data.datasets[1].data = recommendations.map(point);
    chart.update("none");
  }

  async function update() {
    saveState();
    if (!state.id) {
      list.setAttribute("aria-busy", "false");
      return;
    }
    const mine = ++generation;
    const params = new URLSearchParams({ n: state.n });
    for (const [key, value] of Object.entries(filterValues())) if (value) params.set(key, value);
    try {
      const body = await mr.getJson(`/api/movies/${state.id}/similar?${params}`);
      if (mine !== generation) return; // a newer request is on its way
      mr.showError(null);
      const m = body.movie;
      $("selected").textContent = `Movies like ${m.title} (${m.release_year}), rated ${mr.fmt(m.rating, 1)}:`;
      list.replaceChildren(...body.recommendations.map((r, i) => mr.item(r, i + 1)));
      $("empty").hidden = body.recommendations.length > 0;
      list.dataset.movie = String(m.id);
      highlight(m, body.recommendations);
      performance.mark("movierec:list-updated");
      if (performance.getEntriesByName("movierec:n-changed", "mark").length) {
        performance.measure("movierec:slider-to-list", "movierec:n-changed", "movierec:list-updated");
        performance.clearMarks("movierec:n-changed");
      }
    } catch (error) {
      if (mine === generation) mr.showError(error);
    }
    if (mine === generation) list.setAttribute("aria-busy", "false");
  }

  function choose(movie) {
    state.id = movie.id;
    search.value = movie.title;
    update();
  }

  mr.titleSearch(search, suggestions, choose);
  slider.addEventListener("input", () => {
    state.n = Number(slider.value);
    sliderValue.textContent = slider.value;
    performance.clearMarks("movierec:n-changed");
    performance.mark("movierec:n-changed");
    update();
  });
  const refilter = mr.debounce(update, 250);
  for (const input of Object.values(filters)) input.addEventListener("input", refilter);

  /**
   * The chart is drawn when it first scrolls into view: below the list, it is out of sight on a
   * phone, and drawing a thousand points is the page's one long task.
   */
  function drawChartWhenSeen() {
    const observer = new IntersectionObserver(async (entries) => {
      if (!entries.some((e) => e.isIntersecting)) return;
      observer.disconnect();
      try {
        makeChart(await mr.getJson("/api/catalog/points?max=1000"));
        highlight(shown.movie, shown.recommendations);
        performance.mark("movierec:chart-drawn");
      } catch (error) {
        mr.showError(error);
      }
      $("scatter-box").setAttribute("aria-busy", "false");
    });
    observer.observe($("scatter"));
  }

  async function start() {
    const params = mr.params();
    const n = Number(params.get("n"));
    if (n >= 1 && n <= 50) state.n = n;
    slider.value = String(state.n);
    sliderValue.textContent = String(state.n);
    for (const [key, input] of Object.entries(filters)) input.value = params.get(key) || (input.tagName === "SELECT" ? input.options[0].value : "");
    const id = Number(params.get("id"));
    drawChartWhenSeen();
    const pending = [];
    if (Number.isInteger(id) && id > 0) {
      pending.push(
        mr.getJson(`/api/movies/${id}`).then((m) => {
          state.id = m.id;
          search.value = m.title;
        }),
      );
    }
    try {
      await Promise.all(pending);
      await update();
    } catch (error) {
      mr.showError(error);
    }
    performance.mark("movierec:ready");
  }
  start();
})();
