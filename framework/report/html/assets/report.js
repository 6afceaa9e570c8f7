// The report's only script: a filter over the endpoint overview. It reads
// no recorded data as code and sets a marker the browser test checks.
(function () {
  "use strict";
  var input = document.getElementById("filter");
  var only = document.getElementById("only-failed");
  var rows = document.querySelectorAll("#overview tbody tr");
  function apply() {
    var q = (input.value || "").toLowerCase();
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      var show = r.getAttribute("data-endpoint").toLowerCase().indexOf(q) >= 0;
      if (only.checked && r.getAttribute("data-failed") !== "true") { show = false; }
      r.hidden = !show;
    }
  }
  if (input && only) {
    input.addEventListener("input", apply);
    only.addEventListener("change", apply);
  }
  document.documentElement.setAttribute("data-report-script", "ran");
})();
