// 报送平台: small enhancements only. Every form works without this script.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var drop = document.getElementById("drop");
  var input = document.getElementById("file");
  if (form && drop && input) {
    form.addEventListener("submit", function () {
      var button = document.getElementById("submit");
      if (button) { button.disabled = true; button.textContent = "正在核验…"; }
    });
    ["dragenter", "dragover"].forEach(function (name) {
      drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (name) {
      drop.addEventListener(name, function () { drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
      input.files = event.dataTransfer.files;
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
  }
  var runForm = document.getElementById("run-form");
  if (runForm) {
    runForm.addEventListener("submit", function () {
      var button = document.getElementById("run");
      if (button) { button.disabled = true; button.textContent = "正在汇总，请稍候…"; }
    });
  }
  var roster = document.getElementById("roster");
  if (roster && window.fetch) {
    setInterval(function () {
      fetch("/hq/roster", { credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          var current = document.getElementById("roster");
          if (html && current) { current.outerHTML = html; }
        })
        .catch(function () {});
    }, 5000);
  }
})();
