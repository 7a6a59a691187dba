// Draws the dashboard charts from data the page carries in a JSON script element.
(function () {
  const source = document.getElementById("weekly-data");
  const canvas = document.getElementById("weekly-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const weeks = JSON.parse(source.textContent);
  // "2026-09-14" reads as "14 Sep": short enough to stand upright under each bar.
  const label = (day) => new Date(day + "T00:00:00").toLocaleDateString("en-GB", { day: "numeric", month: "short" });
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: weeks.map((w) => label(w[0])),
      datasets: [{ label: "Complaints received", data: weeks.map((w) => w[1]), backgroundColor: "#0d6efd" }],
    },
    options: {
      plugins: { legend: { display: false } },
      scales: {
        x: { title: { display: true, text: "Week starting" }, ticks: { maxRotation: 0, autoSkip: true } },
        y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Complaints" } },
      },
    },
  });
})();
