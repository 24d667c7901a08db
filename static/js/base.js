// Trellis, every page: the quick exit and small progressive enhancements. No inline scripts.
(function () {
  "use strict";
  var exitLink = document.getElementById("quick-exit");

  function quickExit(event) {
    if (event) event.preventDefault();
    var target = exitLink ? exitLink.getAttribute("href") : "https://www.wikipedia.org/";
    // Hide the page at once, then replace this history entry so Back does not return here.
    document.documentElement.classList.add("exiting");
    document.title = "";
    try { window.location.replace(target); } catch (e) { window.location.href = target; }
  }

  if (exitLink) exitLink.addEventListener("click", quickExit);

  // Escape twice within a second leaves too (keyboard users; announced in aria-keyshortcuts).
  var lastEsc = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var now = Date.now();
    if (now - lastEsc < 1000) { quickExit(event); }
    lastEsc = now;
  });

  // Offline-safe creates: give each new-entry form an idempotency key once, so a re-sent form
  // (double tap, flaky network) saves the entry exactly once.
  document.querySelectorAll("input[data-fill-uuid]").forEach(function (input) {
    if (!input.value && window.crypto && window.crypto.randomUUID) {
      input.value = window.crypto.randomUUID();
    }
  });

  // Show only the explanation of the audience that is selected.
  function syncAudienceHelp() {
    var checked = document.querySelector("input[name=audience]:checked");
    document.querySelectorAll(".aud-help").forEach(function (el) {
      el.hidden = !checked || el.getAttribute("data-aud") !== checked.value;
    });
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.name === "audience") syncAudienceHelp();
  });
  syncAudienceHelp();
})();
