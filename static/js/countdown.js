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
      const text = cell.dataset.what + " " + (overdue ? "overdue by " : "due in ") + duration(Math.abs(seconds));
      // Red alone tells nothing to a screen reader: overdue cells also say so in words.
      if (overdue) {
        const label = document.createElement("span");
        label.className = "visually-hidden";
        label.textContent = "Overdue: ";
        cell.replaceChildren(label, text);
      } else {
        cell.replaceChildren(text);
      }
      cell.classList.toggle("countdown-overdue", overdue);
    });
  }
  refresh();
  setInterval(refresh, 30000);
})();
