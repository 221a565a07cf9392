// settings.js: the reveal and copy buttons of the sandbox webhook secret on
// /admin/settings. Without JavaScript the secret stays hidden.
(function () {
  "use strict";
  var box = document.querySelector("[data-testid=sandbox-secret]");
  if (!box) {
    return;
  }
  var input = box.querySelector("[data-secret-value]");
  var reveal = box.querySelector("[data-secret-reveal]");
  var copy = box.querySelector("[data-secret-copy]");

  reveal.addEventListener("click", function () {
    var hidden = input.type === "password";
    input.type = hidden ? "text" : "password";
    reveal.textContent = hidden ? "Hide" : "Reveal";
  });

  copy.addEventListener("click", function () {
    var done = function (text) {
      copy.textContent = text;
      setTimeout(function () { copy.textContent = "Copy"; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(function () { done("Copied"); }, function () { done("Copy failed"); });
      return;
    }
    // Older browsers: a password field cannot be copied from, so copy from
    // a text field for a moment.
    var type = input.type;
    input.type = "text";
    input.select();
    var ok = document.execCommand("copy");
    input.type = type;
    done(ok ? "Copied" : "Copy failed");
  });
})();
