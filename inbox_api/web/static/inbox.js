// Progressive enhancement only: every page works without it.
document.addEventListener("DOMContentLoaded", () => {
  // A quick reply fills the reply box; the agent can still edit it before sending.
  document.querySelectorAll("select[data-fill]").forEach((select) => {
    select.addEventListener("change", () => {
      const target = document.getElementById(select.dataset.fill);
      const option = select.selectedOptions[0];
      if (target && option && option.dataset.body) target.value = option.dataset.body;
    });
  });
  // Queues refresh themselves, but never while the agent is typing somewhere.
  const refresh = document.querySelector("[data-autorefresh]");
  if (refresh) {
    const seconds = Number(refresh.dataset.autorefresh) || 30;
    setInterval(() => {
      const active = document.activeElement;
      if (!active || !["INPUT", "TEXTAREA", "SELECT"].includes(active.tagName)) location.reload();
    }, seconds * 1000);
  }
});
