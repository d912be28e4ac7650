// The review form: a declared conflict of interest hides the scores and asks why.
(function () {
  "use strict";
  var box = document.querySelector("input[name=conflict_of_interest]");
  if (!box) return;
  function show() {
    document.getElementById("scores").hidden = box.checked;
    document.getElementById("conflict-note-row").hidden = !box.checked;
  }
  box.addEventListener("change", show);
})();
