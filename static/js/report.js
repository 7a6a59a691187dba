// Draws a trend report's charts from the JSON the page carries.
(function () {
  if (typeof Chart === "undefined") return;
  function draw(dataId, canvasId, type) {
    const source = document.getElementById(dataId);
    const canvas = document.getElementById(canvasId);
    if (!source || !canvas) return;
    const rows = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: type,
      data: { labels: rows.map((r) => r[0]), datasets: [{ label: "Complaints", data: rows.map((r) => r[1]), backgroundColor: "#0d6efd" }] },
      options: { indexAxis: type === "bar" && canvasId.includes("category") ? "y" : "x", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } }, y: { ticks: { precision: 0 } } } },
    });
  }
  draw("data-by-day", "chart-by-day", "bar");
  draw("data-by-category", "chart-by-category", "bar");
})();
