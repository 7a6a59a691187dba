// Draws the dashboard charts from data the page carries in a JSON script element.
(function () {
  const source = document.getElementById("weekly-data");
  const canvas = document.getElementById("weekly-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const weeks = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: weeks.map((w) => w[0]),
      datasets: [{ label: "Complaints received", data: weeks.map((w) => w[1]), backgroundColor: "#0d6efd" }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
})();
