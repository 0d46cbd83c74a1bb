// The adjust page (/plans/{id}/adjust): each action posts to the JSON API with the page's
// cookie (moves, locks, re-optimise) and opens the page of the new plan, where the promises
// the change broke are listed first. Errors are shown as the service words them; the page's
// own words come in data-* attributes, in the page's language.
(function () {
  "use strict";
  var root = document.getElementById("adjust");
  if (!root) { return; }
  var plan = root.dataset.plan;
  var status = document.getElementById("adjust-status");

  function busy(on) {
    root.querySelectorAll("button").forEach(function (b) { b.disabled = on; });
  }

  function show(text) {
    status.hidden = false;
    status.textContent = text;
  }

  function post(action, body) {
    busy(true);
    show(root.dataset.working);
    fetch("/v1/plans/" + encodeURIComponent(plan) + "/" + action, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) { return {ok: response.ok, body: answer}; });
    }).then(function (answer) {
      if (!answer.ok) {
        show(root.dataset.failed + " " + (answer.body.message || root.dataset.unknown));
        busy(false);
        return;
      }
      window.location.href = "/plans/" + encodeURIComponent(answer.body.plan_id) + "/adjust";
    }).catch(function (error) {
      show(root.dataset.failed + " " + error);
      busy(false);
    });
  }

  root.querySelectorAll("form.move").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = {job: form.dataset.job, courier: form.elements.courier.value};
      var place = form.elements.position.value.trim();
      if (place !== "") { body.position = parseInt(place, 10); }
      post("moves", body);
    });
  });

  root.querySelectorAll("button.lock").forEach(function (button) {
    button.addEventListener("click", function () {
      if (button.dataset.locked === "true") {
        post("locks", {jobs: [button.dataset.job], unlock: true});
      } else {
        post("locks", {jobs: [button.dataset.job], courier: button.dataset.courier});
      }
    });
  });

  document.getElementById("reoptimise").addEventListener("click", function () {
    post("reoptimise", {});
  });
})();
