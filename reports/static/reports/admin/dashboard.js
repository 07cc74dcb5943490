/*
 * The admin dashboard's charts (reports/admin.py). The page embeds its figures as JSON
 * (#dashboard-data: decimal strings, as the API writes money, and the organization's
 * currency); this draws them with the vendored Chart.js (core/static/stockroom/vendor/chartjs),
 * every amount on the axes and in the tooltips with the currency's code ("12.50 EUR").
 * Nothing is fetched: it works offline. Cost series are in the JSON only for users who may see
 * costs.
 */
(function () {
  "use strict";

  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  const figures = JSON.parse(source.textContent);
  const COLOURS = {
    price: "#417690",
    cost: "#e0a030",
    margin: "#4b9a42",
    netRevenue: "#79aec8",
    netMargin: "#a3d39c",
  };
  const number = new Intl.NumberFormat(undefined, {
    minimumFractionDigits: 2,
    maximumFractionDigits: 2,
  });
  const amount = { format: (value) => `${number.format(value)} ${figures.currency}` };
  const numbers = (values) => values.map(Number);
  const options = {
    animation: false, // drawn at once: what the page shows is what the figures say
    responsive: true,
    maintainAspectRatio: false,
    interaction: { mode: "index", intersect: false },
    scales: { y: { beginAtZero: true, ticks: { callback: (value) => amount.format(value) } } },
    plugins: {
      tooltip: {
        callbacks: {
          label: (item) => `${item.dataset.label}: ${amount.format(item.parsed.y)}`,
        },
      },
    },
  };

  function bars(canvasId, series) {
    const datasets = [
      { label: "At price", data: numbers(series.value), backgroundColor: COLOURS.price },
    ];
    if (series.cost_value) {
      datasets.push({
        label: "At cost",
        data: numbers(series.cost_value),
        backgroundColor: COLOURS.cost,
      });
    }
    return new Chart(document.getElementById(canvasId), {
      type: "bar",
      data: { labels: series.labels, datasets: datasets },
      options: options,
    });
  }

  function line(canvasId, series) {
    const datasets = [
      { label: "Revenue", data: numbers(series.revenue), borderColor: COLOURS.price },
      {
        label: "Net revenue",
        data: numbers(series.net_revenue),
        borderColor: COLOURS.netRevenue,
      },
    ];
    if (series.cost) {
      datasets.push({ label: "Cost", data: numbers(series.cost), borderColor: COLOURS.cost });
      datasets.push({
        label: "Gross margin",
        data: numbers(series.margin),
        borderColor: COLOURS.margin,
      });
      datasets.push({
        label: "Net margin",
        data: numbers(series.net_margin),
        borderColor: COLOURS.netMargin,
      });
    }
    for (const dataset of datasets) {
      dataset.backgroundColor = dataset.borderColor;
      dataset.tension = 0; // straight from period to period: no curve overshoots a figure
      dataset.pointRadius = series.labels.length > 60 ? 0 : 3;
    }
    return new Chart(document.getElementById(canvasId), {
      type: "line",
      data: { labels: series.labels, datasets: datasets },
      options: options,
    });
  }

  bars("chart-categories", figures.categories);
  bars("chart-locations", figures.locations);
  line("chart-sales", figures.sales);

  // Another interval re-draws at once; dates are applied with "Show".
  const interval = document.getElementById("id_interval");
  if (interval && interval.form) {
    interval.addEventListener("change", () => interval.form.requestSubmit());
  }
})();
