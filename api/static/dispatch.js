// Re-plan button of the dispatcher page: POST /v1/plans/{id}/replan with the page's cookie,
// then show the new plan. Errors are shown on the page, as the service words them.
(function () {
  "use strict";
  var button = document.getElementById("replan");
  if (!button) { return; }
  var status = document.getElementById("replan-status");
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = "Re-planning… (keeps done stops, starts couriers where they are)";
    fetch("/v1/plans/" + encodeURIComponent(button.dataset.plan) + "/replan", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({})
    }).then(function (response) {
      return response.json().then(function (body) { return {ok: response.ok, body: body}; });
    }).then(function (answer) {
      if (!answer.ok) {
        status.textContent = "Re-planning failed: " + (answer.body.message || "unknown error");
        button.disabled = false;
        return;
      }
      status.textContent = "New plan " + answer.body.plan_id + " stored.";
      window.location.href = "/dispatch?date=" + encodeURIComponent(button.dataset.date) +
        "&plan=" + encodeURIComponent(answer.body.plan_id);
    }).catch(function (error) {
      status.textContent = "Re-planning failed: " + error;
      button.disabled = false;
    });
  });
})();
