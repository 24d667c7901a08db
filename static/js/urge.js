// "I'm struggling": a ten-minute urge-surfing timer. Without JavaScript the page shows the same
// steps as plain instructions. The clock updates every second but is not announced; the gentle
// prompt below it is a polite live region that changes at most once a minute (and when the
// person starts, pauses or finishes). The prompts' words live in the page, not here.
(function () {
  "use strict";
  var box = document.getElementById("urge-timer");
  if (!box) return;
  var TOTAL = 600; // seconds
  var clock = box.querySelector(".urge-clock");
  var bar = document.getElementById("urge-progress");
  var live = document.getElementById("urge-live");
  var toggle = document.getElementById("urge-toggle");
  var prompts = Array.prototype.map.call(
    document.querySelectorAll("#urge-prompts li"),
    function (li) { return li.textContent.trim(); }
  );
  var pausedText = (document.getElementById("urge-paused") || {}).textContent || "";
  var doneText = (document.getElementById("urge-done") || {}).textContent || "";

  var remaining = TOTAL; // seconds left when not running
  var endsAt = 0; // ms timestamp while running
  var timer = null;
  var minuteShown = -1;

  function left() {
    if (!timer) return remaining;
    return Math.max(0, Math.ceil((endsAt - Date.now()) / 1000));
  }

  function show(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    clock.textContent = m + ":" + (s < 10 ? "0" : "") + s;
    bar.value = TOTAL - seconds;
    bar.textContent = Math.round(((TOTAL - seconds) / TOTAL) * 100) + "%";
  }

  function say(text) {
    if (text && live.textContent !== text) live.textContent = text;
  }

  function tick() {
    var seconds = left();
    show(seconds);
    if (seconds <= 0) {
      finish();
      return;
    }
    var minute = Math.min(Math.floor((TOTAL - seconds) / 60), prompts.length - 1);
    if (minute !== minuteShown) {
      minuteShown = minute;
      say(prompts[minute]);
    }
  }

  function start() {
    if (remaining <= 0) remaining = TOTAL;
    endsAt = Date.now() + remaining * 1000;
    minuteShown = -1;
    timer = window.setInterval(tick, 250);
    toggle.textContent = "Pause";
    tick();
  }

  function pause() {
    remaining = left();
    window.clearInterval(timer);
    timer = null;
    toggle.textContent = "Resume";
    show(remaining);
    say(pausedText);
  }

  function finish() {
    window.clearInterval(timer);
    timer = null;
    remaining = 0;
    show(0);
    toggle.textContent = "Start again";
    say(doneText);
  }

  toggle.addEventListener("click", function () {
    if (timer) pause();
    else start();
  });
  box.hidden = false;
  show(remaining);
})();
