// Keeps deadline countdowns current while a queue stays open on screen.
(function () {
  function duration(seconds) {
    const days = Math.floor(seconds / 86400);
    const hours = Math.floor((seconds % 86400) / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    if (days >= 7) return days + " days";
    if (days) return days + " d " + hours + " h";
    if (hours) return hours + " h " + minutes + " min";
    return minutes + " min";
  }
  function refresh() {
    const now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (cell) {
      const seconds = Math.round((Date.parse(cell.dataset.deadline) - now) / 1000);
      const overdue = seconds < 0;
      cell.textContent = cell.dataset.what + " " + (overdue ? "overdue by " : "due in ") + duration(Math.abs(seconds));
      cell.classList.toggle("countdown-overdue", overdue);
    });
  }
  refresh();
  setInterval(refresh, 30000);
})();
