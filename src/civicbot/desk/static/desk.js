/* The write form's live counter: counts like Mastodon (a link counts 23 characters, a remote
   mention counts its local part) and asks the server how the publisher will split the text. */
(function () {
  "use strict";
  var form = document.getElementById("write-form");
  if (!form) { return; }
  var script = document.currentScript || document.querySelector("script[data-characters]");
  var words = { characters: script.dataset.characters, posts: script.dataset.posts,
                part: script.dataset.part };
  var text = document.getElementById("text");
  var cw = document.getElementById("cw");
  var counter = document.getElementById("counter");
  var split = document.getElementById("split");
  var limit = parseInt(form.dataset.limit, 10) || 500;
  var URL_RE = /https?:\/\/[^\s<>"]+/gi;
  var MENTION_RE = /(^|[^\w\/])@(\w+)@[\w.-]+\w/g;
  function length(value) {
    var counted = value.replace(URL_RE, "x".repeat(23)).replace(MENTION_RE, "$1@$2");
    return Array.from(counted).length;
  }
  var timer = null;
  function ask() {
    var data = new FormData();
    data.append("text", text.value);
    data.append("cw", cw ? cw.value : "");
    data.append("account", form.elements.account ? form.elements.account.value : "");
    var token = form.elements.csrftoken.value;
    fetch("/write/split", { method: "POST", body: data, credentials: "same-origin",
                            headers: { "x-csrftoken": token } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) {
        if (!answer) { return; }
        split.textContent = "";
        answer.parts.forEach(function (part, i) {
          var li = document.createElement("li");
          li.textContent = part;
          li.setAttribute("aria-label", words.part + " " + (i + 1) + "/" + answer.parts.length);
          split.appendChild(li);
        });
        split.hidden = answer.parts.length < 2;
        update(answer.parts.length);
      })
      .catch(function () {});
  }
  function update(parts) {
    var n = length(text.value) + (cw ? length(cw.value) : 0);
    counter.textContent = n + " / " + limit + " " + words.characters +
      (parts && parts > 1 ? " — " + parts + " " + words.posts : "");
  }
  text.addEventListener("input", function () {
    update();
    clearTimeout(timer);
    timer = setTimeout(ask, 400);
  });
  if (cw) { cw.addEventListener("input", function () { update(); }); }
  update();
  if (text.value) { ask(); }
})();
