// The allocation screen: a live preview of what remains, and figures kept current.
(function () {
  var summary = document.getElementById("pool-state");
  var remaining = parseFloat(summary.dataset.remaining);
  var lastEvent = summary.dataset.lastEvent;
  var texts = {after: summary.dataset.textAfter, over: summary.dataset.textOver};
  // As competitions.formatting.format_money writes it in the page's language: 9 800,00 €
  // with no-break spaces in Latvian, €9,800.00 in English.
  var english = /^en\b/.test(document.documentElement.lang || "");
  function money(value) {
    var parts = Math.abs(value).toFixed(2).split(".");
    var sign = value < 0 ? "-" : "";
    if (english) {
      return sign + "€" + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + parts[1];
    }
    return sign + parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0") + "," + parts[1] + "\u00a0€";
  }
  function amount(text) {
    var cleaned = text.replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    return /^\d+(\.\d{1,2})?$/.test(cleaned) ? parseFloat(cleaned) : null;
  }
  document.querySelectorAll(".award-form").forEach(function (form) {
    var input = form.querySelector("input[name=amount]");
    var preview = form.querySelector(".preview");
    var current = parseFloat(form.dataset.current);
    input.addEventListener("input", function () {
      var typed = amount(input.value);
      if (typed === null) { preview.textContent = ""; return; }
      var after = Math.round((remaining + current - typed) * 100) / 100;
      preview.classList.toggle("is-over", after < 0);
      preview.textContent = after < 0
        ? texts.over.replace("__AMOUNT__", money(-after))
        : texts.after.replace("__AMOUNT__", money(after));
    });
  });
  // Another coordinator may allocate at the same time: keep the figures current and say when
  // the amounts on this page are no longer the ones in the database.
  function refresh() {
    fetch(summary.dataset.stateUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        ["pool", "allocated", "remaining", "cap"].forEach(function (name) {
          summary.querySelector("[data-figure=" + name + "]").textContent = state[name];
        });
        remaining = parseFloat(state.remaining_amount);
        if (String(state.last_event === null ? "" : state.last_event) !== lastEvent) {
          document.getElementById("stale-notice").hidden = false;
        }
      })
      .catch(function () {});
  }
  setInterval(refresh, 10000);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(); } });
})();
