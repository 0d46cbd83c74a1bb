// Re-plan button of the dispatcher page: POST /v1/plans/{id}/replan with the page's cookie,
// then show the new plan. Errors are shown on the page, as the service words them; the page's
// own words come in the button's data-* attributes, in the page's language.
(function () {
  "use strict";
  var button = document.getElementById("replan");
  if (!button) { return; }
  var status = document.getElementById("replan-status");
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = button.dataset.working;
    fetch("/v1/plans/" + encodeURIComponent(button.dataset.plan) + "/replan", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({})
    }).then(function (response) {
      return response.json().then(function (body) { return {ok: response.ok, body: body}; });
    }).then(function (answer) {
      if (!answer.ok) {
        status.textContent = button.dataset.failed + " " +
          (answer.body.message || button.dataset.unknown);
        button.disabled = false;
        return;
      }
      status.textContent = button.dataset.stored + " " + answer.body.plan_id;
      window.location.href = "/dispatch?date=" + encodeURIComponent(button.dataset.date) +
        "&plan=" + encodeURIComponent(answer.body.plan_id);
    }).catch(function (error) {
      status.textContent = button.dataset.failed + " " + error;
      button.disabled = false;
    });
  });
})();
