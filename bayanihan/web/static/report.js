// The report form: show the observables found in the text before submitting, and the
// audience or recipients box that fits the chosen TLP.
(function () {
  "use strict";
  var found = document.getElementById("found");
  var fields = ["lures", "narrative", "observables"].map(function (id) { return document.getElementById(id); });
  var timer = null;
  function refresh() {
    var text = fields.map(function (f) { return f ? f.value : ""; }).join("\n");
    fetch("/observables?text=" + encodeURIComponent(text.slice(0, 20000)), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { observables: [] }; })
      .then(function (data) {
        found.textContent = "";
        if (!data.observables.length) {
          var none = document.createElement("li"); none.className = "empty"; none.textContent = "None yet.";
          found.appendChild(none); return;
        }
        data.observables.forEach(function (o) {
          var li = document.createElement("li");
          var b = document.createElement("strong"); b.textContent = o.type + ": ";
          li.appendChild(b); li.appendChild(document.createTextNode(o.value));
          found.appendChild(li);
        });
      });
  }
  fields.forEach(function (f) {
    if (f) { f.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(refresh, 300); }); }
  });
  var audience = document.getElementById("audience-box");
  var recipients = document.getElementById("recipients-box");
  function boxes() {
    var picked = document.querySelector("input[name=tlp]:checked");
    var t = picked ? picked.value : "amber";
    audience.hidden = !(t === "amber" || t === "amber+strict");
    recipients.hidden = t !== "red";
  }
  document.querySelectorAll("input[name=tlp]").forEach(function (r) { r.addEventListener("change", boxes); });
  boxes();
  refresh();
})();
