// The application form: add and remove activities without losing what was typed, and keep
// a running total against the cap. The server checks everything again on save.
(function () {
  "use strict";
  const form = document.getElementById("application-form");
  if (!form) return;

  const list = document.getElementById("activity-list");
  const template = document.getElementById("activity-template");
  const totalForms = form.querySelector('input[name$="-TOTAL_FORMS"]');
  const totalOut = document.getElementById("total");
  const overCap = document.getElementById("over-cap");
  const unreadable = document.getElementById("unreadable-costs");
  // Amounts as people type them in Latvian: 1500, 1500,50, 1 500,50 (also 1500.50).
  const AMOUNT = /^(?:\d{1,3}(?: \d{3})+|\d+)(?:[.,]\d{1,2})?$/;
  const cap = toCents(form.dataset.cap.replace(".", ","));

  function toCents(text) {
    const clean = String(text || "")
      .replace(/[\u00a0\u202f\u2009]/g, " ")
      .replace(/ +/g, " ")
      .replace(/\s*(€|EUR)$/, "")
      .trim();
    if (!AMOUNT.test(clean)) return null;
    const [whole, fraction = ""] = clean.replace(/ /g, "").split(/[.,]/);
    return Number(whole) * 100 + Number((fraction + "00").slice(0, 2));
  }

  function money(cents) {
    const whole = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, " ");
    return whole + "," + String(cents % 100).padStart(2, "0") + " €";
  }

  function activities() {
    return Array.from(list.querySelectorAll("[data-activity]"));
  }

  function isRemoved(card) {
    const box = card.querySelector('input[name$="-DELETE"]');
    return box && box.checked;
  }

  function recalculate() {
    let sum = 0;
    const unread = [];
    activities().forEach(function (card) {
      if (isRemoved(card)) return;
      const typed = card.querySelector("[data-cost]").value;
      const cents = toCents(typed);
      if (cents !== null) sum += cents;
      // Left out of the total, but not in silence: a negative or unreadable cost is named by
      // the number its activity shows. An empty one is simply not typed yet.
      else if (typed.trim() !== "") unread.push(card.querySelector("[data-activity-number]").textContent);
    });
    totalOut.textContent = money(sum);
    const over = sum > cap;
    totalOut.classList.toggle("text-danger", over);
    overCap.classList.toggle("d-none", !over);
    if (over) overCap.textContent = overCap.dataset.template.replace("{excess}", money(sum - cap));
    unreadable.classList.toggle("d-none", unread.length === 0);
    unreadable.textContent = unread.length === 0 ? "" : (
      unread.length === 1 ? unreadable.dataset.one : unreadable.dataset.many
    ).replace("{numbers}", unread.join(", "));
  }

  function renumber() {
    let number = 0;
    activities().forEach(function (card) {
      card.classList.toggle("removed", isRemoved(card));
      if (!isRemoved(card)) number += 1;
      card.querySelector("[data-activity-number]").textContent = isRemoved(card) ? "" : number;
    });
  }

  // Past the deadline the page has neither button: it only shows what was typed.
  const add = document.getElementById("add-activity");
  if (add) add.addEventListener("click", function (event) {
    event.preventDefault();
    const index = Number(totalForms.value);
    const wrapper = document.createElement("div");
    wrapper.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
    const card = wrapper.firstElementChild;
    list.appendChild(card);
    totalForms.value = String(index + 1);
    renumber();
    card.querySelector("select, input:not([type=hidden]), textarea").focus();
  });

  list.addEventListener("input", recalculate);
  list.addEventListener("change", function (event) {
    if (event.target.name && event.target.name.endsWith("-DELETE")) renumber();
    recalculate();
  });

  const submit = document.getElementById("submit-application");
  if (submit) submit.addEventListener("click", function (event) {
    if (!window.confirm(submit.dataset.confirm)) event.preventDefault();
  });

  renumber();
  recalculate();
})();
