// The overview's live feed: Server-Sent Events from /live (the session cookie goes along).
(function () {
  "use strict";
  var feed = document.getElementById("feed");
  var alerts = document.getElementById("alerts");
  var state = document.getElementById("feed-state");
  if (!feed || !window.EventSource) { return; }
  function item(text, href) {
    var li = document.createElement("li");
    if (href) {
      var a = document.createElement("a");
      a.href = href; a.textContent = text; li.appendChild(a);
    } else { li.textContent = text; }
    return li;
  }
  function add(ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (e) { return; }
    var p = data.payload || {};
    var label = ev.type + (data.object_id ? ": " + (p.name || p.title || data.object_id) : "");
    feed.insertBefore(item(label, data.object_id ? "/objects/" + data.object_id : null), feed.firstChild);
    while (feed.children.length > 50) { feed.removeChild(feed.lastChild); }
    if (ev.type === "alert" && alerts) {
      var empty = alerts.querySelector(".empty");
      if (empty) { empty.remove(); }
      var li = document.createElement("li");
      li.className = "card alert fresh";
      li.appendChild(item("New regional alert: " + (p.name || data.object_id), "/objects/" + data.object_id).firstChild);
      var countries = p.countries ? " · seen in " + p.countries.join(", ") : "";
      li.appendChild(document.createTextNode(countries));
      if (p.campaign) {
        var div = document.createElement("div");
        var a = document.createElement("a");
        a.href = "/campaigns/" + p.campaign; a.textContent = "Open the campaign";
        div.appendChild(a); li.appendChild(div);
      }
      alerts.insertBefore(li, alerts.firstChild);
    }
  }
  var source = new EventSource("/live");
  source.onopen = function () { state.textContent = "Live: new events appear here without reloading."; };
  source.onerror = function () { state.textContent = "Connection lost; reconnecting…"; };
  source.onmessage = add;
  ["object.created", "object.updated", "alert", "campaign", "sighting", "report"].forEach(function (k) {
    source.addEventListener(k, add);
  });
})();
