// Live updates of the console's inbox: every few seconds the page asks a
// small JSON endpoint whether its part changed ({"stamp": N}) and, when it
// did, fetches that part again and puts it in place. Without this script
// the pages work the same; reloading shows what is new.
(function () {
  "use strict";
  var live = document.querySelector("[data-live]");
  if (!live || !window.fetch) {
    return;
  }
  var stamp = live.getAttribute("data-stamp");
  var stampURL = live.getAttribute("data-stamp-url");
  var partURL = live.getAttribute("data-part-url");
  var status = document.getElementById("live-status");
  var every = 3000, hidden = 15000, failures = 0;
  if (status) {
    status.textContent = "New messages show here by themselves.";
  }

  function later() {
    var wait = document.hidden ? hidden : every;
    window.setTimeout(tick, Math.min(wait * (1 + failures), 60000));
  }

  function tick() {
    fetch(stampURL, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.json();
      })
      .then(function (j) {
        var next = String(j.stamp);
        if (next === stamp) {
          return null;
        }
        return fetch(partURL, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok) {
            throw new Error("HTTP " + r.status);
          }
          return r.text().then(function (html) {
            live.innerHTML = html; // the console's own, escaped, page part
            stamp = next;
            if (status) {
              status.textContent = "Updated at " + new Date().toLocaleTimeString() + ".";
            }
          });
        });
      })
      .then(function () {
        failures = 0;
        later();
      })
      .catch(function () {
        failures++;
        if (status) {
          status.textContent = "Live updates paused: the console could not be reached. Reload the page.";
        }
        later();
      });
  }

  later();
})();
