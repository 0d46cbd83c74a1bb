// The request book's map of uncertain addresses: one pin per open request that the gazetteer
// placed only at its ward's or district's centre. A dispatcher drags a pin to the citizen's
// house; on drop it is saved with POST /v1/requests/{id}/position (the page's cookie) and the
// request's row says it was set by hand. A refused save puts the pin back. The page's words
// come in the map's data-* attributes, in the page's language; the base map is the embedded
// ward boundaries, so it draws with no internet.
(function () {
  "use strict";
  var box = document.getElementById("pin-map");
  var source = document.getElementById("pins-data");
  if (!box || !source || typeof L === "undefined") { return; }
  var pins = JSON.parse(source.textContent);
  var words = box.dataset;
  var editable = words.editable === "yes";
  var status = document.getElementById("pin-status");
  var map = L.map(box, {zoomControl: false});
  L.control.zoom({zoomInTitle: words.zoomIn, zoomOutTitle: words.zoomOut}).addTo(map);
  map.attributionControl.setPrefix("Leaflet");

  fetch("/requests/wards.geojson", {credentials: "same-origin"})
    .then(function (r) { return r.ok ? r.json() : null; })
    .then(function (wards) {
      if (!wards) { return; }
      L.geoJSON(wards, {
        style: function () {
          return {color: "#6b7b8c", weight: 1, opacity: 0.7, fillColor: "#eef3e8", fillOpacity: 0.55};
        },
        onEachFeature: function (f, layer) {
          layer.bindTooltip((f.properties.kind || "") + " " + (f.properties.name || ""), {sticky: true});
        }
      }).addTo(map).bringToBack();
    })
    .catch(function () { /* the pins still show without the boundaries */ });

  function say(text) { status.textContent = text; }

  function rowOf(id) {
    var rows = document.querySelectorAll("tr[data-request]");
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].dataset.request === id) { return rows[i]; }
    }
    return null;
  }

  function icon(n, saved) {
    return L.divIcon({
      className: "",
      html: '<div class="pin-label' + (saved ? " saved" : "") + '">' + n + "</div>",
      iconSize: [26, 26],
      iconAnchor: [13, 13]
    });
  }

  function popup(pin) {
    var div = document.createElement("div");
    var code = document.createElement("b");
    code.textContent = pin.id + " · " + pin.dossier;
    div.appendChild(code);
    [pin.address, pin.sure, editable ? words.drag : ""].forEach(function (line) {
      if (line) {
        div.appendChild(document.createElement("br"));
        div.appendChild(document.createTextNode(line));
      }
    });
    return div;
  }

  function save(pin, marker, from) {
    var to = marker.getLatLng();
    marker.dragging.disable();
    fetch("/v1/requests/" + encodeURIComponent(pin.id) + "/position", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify({lat: Math.round(to.lat * 1e6) / 1e6, lon: Math.round(to.lng * 1e6) / 1e6})
    }).then(function (response) {
      return response.json().then(function (body) { return {ok: response.ok, body: body}; });
    }).then(function (answer) {
      if (!answer.ok) { throw new Error(answer.body.message || words.unknown); }
      marker.setIcon(icon(pin.n, true));
      pin.sure = words.set;
      marker.setPopupContent(popup(pin));
      marker.getElement().dataset.saved = "yes";
      var row = rowOf(pin.id);
      if (row) {
        row.classList.remove("uncertain");
        row.classList.add("manual");
        row.querySelector("td.sure").textContent = words.set;
      }
      say(words.saved.replace("{id}", pin.id));
    }).catch(function (error) {
      marker.setLatLng(from);
      say(words.failed.replace("{id}", pin.id) + " " + error.message);
    }).then(function () {
      if (pin.open) { marker.dragging.enable(); }
    });
  }

  var bounds = pins.map(function (pin) { return [pin.lat, pin.lon]; });
  if (bounds.length) {
    map.fitBounds(bounds, {padding: [40, 40], maxZoom: 14});
  } else {
    map.setView([9.1769, 105.1524], 10);
  }
  pins.forEach(function (pin, i) {
    pin.n = i + 1;
    var marker = L.marker([pin.lat, pin.lon], {
      draggable: editable && pin.open,
      icon: icon(pin.n, false),
      title: pin.id,
      autoPan: true
    });
    marker.on("add", function () { marker.getElement().dataset.request = pin.id; });
    var from = null;
    marker.on("dragstart", function () { from = marker.getLatLng(); });
    marker.on("dragend", function () { save(pin, marker, from); });
    marker.bindPopup(popup(pin));
    marker.addTo(map);
  });
})();
