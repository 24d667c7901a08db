// Assigning homework: show the journal-prompt or meeting-set picker only for its own kind.
// Without JavaScript both stay visible, each labelled with the kind it is for.
(function () {
  "use strict";
  var form = document.querySelector("form[data-homework-form]");
  if (!form) return;
  var kind = form.querySelector("select[name=kind]");
  var pickers = { journal_prompt: "journal_prompt", meeting_prompts: "prompt_set" };
  function sync() {
    Object.keys(pickers).forEach(function (k) {
      var input = form.querySelector("[name=" + pickers[k] + "]");
      var field = input && input.closest(".field");
      if (field) field.hidden = kind.value !== k;
    });
  }
  if (kind) { kind.addEventListener("change", sync); sync(); }
})();
