// A form of lines with costs (an application's activities, a grant's plan): add and remove
// lines without losing what was typed, and keep a running total against a limit (the call's
// cap, the award). The page gives the limit and every text in data attributes:
//
//   form[data-lines-form][data-limit]    the limit, as "4000.00"
//   [data-lines]                         the lines; each is [data-line] with a [data-cost]
//                                        input, a [data-line-number] and a "-DELETE" box
//   template[data-line-template]         an empty line, its index as __prefix__
//   [data-add-line]                      the button that adds one (without JavaScript it
//                                        posts, and the server adds the row)
//   [data-total]                         where the total goes
//   [data-over-limit][data-template]     shown over the limit: "{excess}" is filled in
//   [data-under-limit][data-template]    shown under it, if the page has it: "{remainder}"
//   [data-unreadable][data-one][data-many]  names the lines whose cost cannot be read
//   button[data-confirm]                 asks before it posts
//
// The server checks everything again on save.
(function () {
  "use strict";
  // Amounts as people type them in Latvian: 1500, 1500,50, 1 500,50 (also 1500.50).
  const AMOUNT = /^(?:\d{1,3}(?: \d{3})+|\d+)(?:[.,]\d{1,2})?$/;

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

  // As competitions.formatting.format_money writes it in the page's language: 9 800,00 € with
  // no-break spaces in Latvian, €9,800.00 in English.
  const english = /^en\b/.test(document.documentElement.lang || "");
  function money(cents) {
    const whole = String(Math.floor(cents / 100));
    const fraction = String(cents % 100).padStart(2, "0");
    if (english) return "€" + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + fraction;
    return whole.replace(/\B(?=(\d{3})+(?!\d))/g, "\u00a0") + "," + fraction + "\u00a0€";
  }

  function linesForm(form) {
    const list = form.querySelector("[data-lines]");
    const template = form.querySelector("template[data-line-template]");
    const totalForms = form.querySelector('input[name$="-TOTAL_FORMS"]');
    const totalOut = form.querySelector("[data-total]");
    const over = form.querySelector("[data-over-limit]");
    const under = form.querySelector("[data-under-limit]");
    const unreadable = form.querySelector("[data-unreadable]");
    const limit = toCents(form.dataset.limit.replace(".", ","));

    function lines() {
      return Array.from(list.querySelectorAll("[data-line]"));
    }

    function isRemoved(line) {
      const box = line.querySelector('input[name$="-DELETE"]');
      return box && box.checked;
    }

    // The text of a data-template with "{name}" replaced by an amount that never breaks
    // across lines (portal.css: .amount), or by plain text.
    function show(element, visible, template, name, value) {
      element.classList.toggle("d-none", !visible);
      element.replaceChildren();
      if (!visible) return;
      const [before, after = ""] = template.split("{" + name + "}");
      let filled = document.createTextNode(value);
      if (typeof value === "number") {
        filled = document.createElement("span");
        filled.className = "amount";
        filled.textContent = money(value);
      }
      element.append(before, filled, after);
    }

    function recalculate() {
      let sum = 0;
      const unread = [];
      lines().forEach(function (line) {
        if (isRemoved(line)) return;
        const typed = line.querySelector("[data-cost]").value;
        const cents = toCents(typed);
        if (cents !== null) sum += cents;
        // Left out of the total, but not in silence: a negative or unreadable cost is named by
        // the number its line shows. An empty one is simply not typed yet.
        else if (typed.trim() !== "") unread.push(line.querySelector("[data-line-number]").textContent);
      });
      totalOut.textContent = money(sum);
      totalOut.classList.toggle("text-danger", sum > limit);
      show(over, sum > limit, over.dataset.template, "excess", sum - limit);
      if (under) show(under, sum < limit, under.dataset.template, "remainder", limit - sum);
      show(unreadable, unread.length > 0,
        unread.length === 1 ? unreadable.dataset.one : unreadable.dataset.many,
        "numbers", unread.join(", "));
    }

    function renumber() {
      let number = 0;
      lines().forEach(function (line) {
        line.classList.toggle("removed", isRemoved(line));
        if (!isRemoved(line)) number += 1;
        line.querySelector("[data-line-number]").textContent = isRemoved(line) ? "" : number;
      });
    }

    // A page that only shows what was typed (past a deadline) has no button to add a line.
    const add = form.querySelector("[data-add-line]");
    if (add) add.addEventListener("click", function (event) {
      event.preventDefault();
      const index = Number(totalForms.value);
      const wrapper = document.createElement("div");
      wrapper.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      const line = wrapper.firstElementChild;
      list.appendChild(line);
      totalForms.value = String(index + 1);
      renumber();
      recalculate();
      line.querySelector("select, input:not([type=hidden]), textarea").focus();
    });

    list.addEventListener("input", recalculate);
    list.addEventListener("change", function (event) {
      if (event.target.name && event.target.name.endsWith("-DELETE")) renumber();
      recalculate();
    });

    form.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.dataset.confirm)) event.preventDefault();
      });
    });

    renumber();
    recalculate();
  }

  document.querySelectorAll("form[data-lines-form]").forEach(linesForm);
})();
