// The dispatcher's planning console (the dispatch page). Every action posts to the JSON API
// with the page's cookie and then shows the plan it made:
// - "Plan the day": POST /v1/days/{date}/plan with the chosen search time. The solve answers
//   only when it is over, so the bar fills over the search time it was given, then turns
//   indeterminate while the search finishes and the draft is stored.
// - "Re-plan now": POST /v1/plans/{id}/replan as a draft, never published at once.
// - "Publish" / "Discard" on a draft, each after a confirmation in words.
// Errors are shown on the page as the service words them; the page's own words come in the
// buttons' data-* attributes, in the page's language.
(function () {
  "use strict";

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().then(
        function (answer) { return {ok: response.ok, body: answer}; },
        function () { return {ok: false, body: {}}; }
      );
    });
  }

  function showPlan(date, planId) {
    window.location.href = "/dispatch?date=" + encodeURIComponent(date) +
      "&plan=" + encodeURIComponent(planId);
  }

  function failed(button, status, detail) {
    status.textContent = button.dataset.failed + " " + (detail || button.dataset.unknown);
    button.disabled = false;
  }

  // A bar that fills over the search time, then waits without a value (indeterminate).
  function startProgress(button, seconds) {
    var box = document.getElementById("plan-progress-box");
    var bar = document.getElementById("plan-progress");
    var text = document.getElementById("plan-progress-text");
    var started = Date.now();
    box.hidden = false;
    function tick() {
      var elapsed = (Date.now() - started) / 1000;
      if (elapsed < seconds) {
        bar.value = Math.max(1, Math.round(100 * elapsed / seconds));
        text.textContent = button.dataset.searching
          .replace("{done}", String(Math.floor(elapsed)))
          .replace("{all}", String(seconds));
      } else {
        bar.removeAttribute("value");
        text.textContent = button.dataset.finishing;
      }
    }
    tick();
    var timer = window.setInterval(tick, 250);
    return function stop() { window.clearInterval(timer); };
  }

  var planDay = document.getElementById("plan-day-button");
  if (planDay) {
    planDay.addEventListener("click", function () {
      var status = document.getElementById("plan-status");
      var seconds = parseInt(document.getElementById("plan-time").value, 10) || 10;
      planDay.disabled = true;
      status.textContent = "";
      var stop = startProgress(planDay, seconds);
      post("/v1/days/" + encodeURIComponent(planDay.dataset.date) + "/plan",
           {options: {time_limit_s: seconds}})
        .then(function (answer) {
          stop();
          if (!answer.ok) { failed(planDay, status, answer.body.message); return; }
          showPlan(planDay.dataset.date, answer.body.plan_id);
        })
        .catch(function (error) { stop(); failed(planDay, status, String(error)); });
    });
  }

  var replan = document.getElementById("replan");
  if (replan) {
    replan.addEventListener("click", function () {
      var status = document.getElementById("replan-status");
      replan.disabled = true;
      status.textContent = replan.dataset.working;
      post("/v1/plans/" + encodeURIComponent(replan.dataset.plan) + "/replan", {draft: true})
        .then(function (answer) {
          if (!answer.ok) { failed(replan, status, answer.body.message); return; }
          status.textContent = replan.dataset.stored + " " + answer.body.plan_id;
          showPlan(replan.dataset.date, answer.body.plan_id);
        })
        .catch(function (error) { failed(replan, status, String(error)); });
    });
  }

  function confirmed(button, action, done) {
    button.addEventListener("click", function () {
      if (!window.confirm(button.dataset.confirm)) { return; }
      var status = document.getElementById("publish-status");
      button.disabled = true;
      status.textContent = button.dataset.working;
      post("/v1/plans/" + encodeURIComponent(button.dataset.plan) + "/" + action, {})
        .then(function (answer) {
          if (!answer.ok) { failed(button, status, answer.body.message); return; }
          done(button);
        })
        .catch(function (error) { failed(button, status, String(error)); });
    });
  }

  var publish = document.getElementById("publish");
  if (publish) {
    confirmed(publish, "publish", function (button) {
      showPlan(button.dataset.date, button.dataset.plan);
    });
  }
  var discard = document.getElementById("discard");
  if (discard) {
    confirmed(discard, "discard", function (button) {
      window.location.href = "/dispatch?date=" + encodeURIComponent(button.dataset.date);
    });
  }
})();
