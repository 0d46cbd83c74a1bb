// buuta's courier phone: record every hand-over on the stop list, online or not (DESIGN §9).
//
// Each scan gets its event_id (crypto.randomUUID) once, is written to IndexedDB (the vendored
// `idb` wrapper) before anything is sent, and stays there as "pending" until POST /v1/scans
// acknowledges it; it is sent again on reconnection, on a timer and after any failure. The
// phone's position is queued and sent the same way. Every sentence shown comes from the page
// (the JSON block #courier-config, translated by the server), so this file holds no words.
(function () {
  "use strict";
  var configBlock = document.getElementById("courier-config");
  if (!configBlock || !window.idb) { return; }
  var cfg = JSON.parse(configBlock.textContent);
  var W = cfg.words;
  var CACHE = "buuta-stops-v3";  // the service worker's cache (sw.js)
  var BATCH = 50;
  var RETRY_MS = 15000;
  // Where each status lies in a dossier's life cycle: a flagged scan stops mattering once the
  // dossier's status has reached (or passed) the status that scan would have set.
  var ORDER = ["requested", "collected", "at_hub", "on_shuttle", "received", "processing",
    "result_ready", "out_for_delivery", "delivery_failed", "delivered", "returned"];
  var KEPT = {pending: 1, stored: 1, settled: 1};  // records that count as done on the phone

  var dbReady = idb.openDB("buuta-courier", 1, {
    upgrade: function (db) {
      var scans = db.createObjectStore("scans", {keyPath: "event_id"});
      scans.createIndex("state", "state");
      db.createObjectStore("positions", {keyPath: "id", autoIncrement: true});
    }
  });
  var statuses = {};  // dossier code -> latest status known from the server
  var syncing = null;
  var syncAgain = false;
  var retryTimer = null;

  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, name) {
      return values[name] === undefined ? "" : String(values[name]);
    });
  }
  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }
  function rank(status) { return ORDER.indexOf(status); }

  // ------------------------------------------------------------------ recording

  function stopOf(element) { return element.closest("[data-stop]"); }

  function eventBody(stop, type, item, extra) {
    var body = {
      event_id: crypto.randomUUID(),
      dossier: item.getAttribute("data-dossier"),
      type: type,
      at: new Date().toISOString(),
      site: stop.getAttribute("data-site") || null,
      job: item.getAttribute("data-job") || null,
      proof: extra.proof || null
    };
    if (!body.site && stop.hasAttribute("data-lat")) {
      body.lat = parseFloat(stop.getAttribute("data-lat"));
      body.lon = parseFloat(stop.getAttribute("data-lon"));
    }
    if (extra.reason) { body.reason = extra.reason; }
    return body;
  }

  function record(stop, type, items, extra) {
    var records = items.map(function (item) {
      var body = eventBody(stop, type, item, extra || {});
      return {event_id: body.event_id, body: body, state: "pending", courier: cfg.courier,
        dossier: body.dossier, type: type, made: Date.now()};
    });
    return dbReady.then(function (db) {
      var tx = db.transaction("scans", "readwrite");
      records.forEach(function (r) { tx.store.put(r); });
      return tx.done;
    }).then(function () {
      var root = document.documentElement;  // how many scans this page recorded (for tests)
      root.setAttribute("data-recorded", String(Number(root.getAttribute("data-recorded") || 0) +
        records.length));
      flash(stop, W.queued);
      return refresh();
    }).then(function () { sync(); });
  }

  function itemsToDo(stop, type) {
    return $all("[data-item]", stop).filter(function (item) {
      var button = $('[data-event="' + type + '"]', item);
      return button && !button.disabled;
    });
  }

  function itemOf(stop, code) {
    var wanted = code.trim().toUpperCase();
    return $all("[data-item]", stop).filter(function (item) {
      return item.getAttribute("data-dossier").toUpperCase() === wanted;
    })[0] || null;
  }

  // The one-tap action of a stop for a dossier; deliveries open the proof or reason sheet.
  function act(stop, type, item) {
    if (type === "delivered" || type === "delivery_failed") { return openSheet(type, stop, item); }
    return record(stop, type, item ? [item] : itemsToDo(stop, type));
  }

  var PRIMARY = {pickup: "collected", handoff: "at_hub", collect: "out_for_delivery",
    delivery: "delivered"};

  // ------------------------------------------------------------------ sheets (dialogs)

  var sheetStop = null;
  var sheetItem = null;

  function openSheet(kind, stop, item) {
    var dialog = $('[data-dialog="' + kind + '"]');
    var form = $("form", dialog);
    form.reset();
    $("[data-error]", form).textContent = "";
    var which = $("[data-which]", form);
    if (which) { which.textContent = item ? item.getAttribute("data-dossier") : ""; }
    sheetStop = stop;
    sheetItem = item;
    if (kind === "delivered") { showProofFields(form); }
    dialog.showModal();
    if (kind === "scan") { startCamera(dialog); }
  }

  function closeSheet(dialog) {
    stopCamera();
    if (dialog.open) { dialog.close(); }
  }

  function showProofFields(form) {
    var method = form.elements.method.value;
    $('[data-for="code"]', form).hidden = method !== "code";
    $('[data-for="id"]', form).hidden = method !== "id";
  }

  function digits(text) { return String(text || "").replace(/\D/g, ""); }

  function proofFrom(form) {
    var proof = {};
    var name = form.elements.recipient_name.value.trim();
    var applicant = form.elements.is_applicant.checked;
    if (form.elements.method.value === "code") {
      var code = digits(form.elements.code.value);
      if (code.length !== 6) { return {error: W.need_code}; }
      proof.code = code;
    } else {
      var last4 = digits(form.elements.id_last4.value);
      if (last4.length !== 4) { return {error: W.need_id}; }
      proof.id_last4 = last4;
    }
    if (!applicant && !name) { return {error: W.need_name}; }
    if (name) { proof.recipient_name = name; }
    proof.recipient_is_applicant = applicant;
    return {proof: proof};
  }

  function submitSheet(kind, form, dialog) {
    var error = $("[data-error]", form);
    if (kind === "delivered") {
      var made = proofFrom(form);
      if (made.error) { error.textContent = made.error; return; }
      closeSheet(dialog);
      record(sheetStop, "delivered", [sheetItem], {proof: made.proof});
    } else if (kind === "delivery_failed") {
      var reason = form.elements.reason.value;
      var next = form.elements.next.value;
      if (!reason || !next) { error.textContent = W.need_reason; return; }
      closeSheet(dialog);
      record(sheetStop, "delivery_failed", [sheetItem], {reason: reason + "; next=" + next});
    } else {
      takeCode(form.elements.code.value, form, dialog);
    }
  }

  // A dossier code typed or read by the camera: refused on the spot unless it is this stop's.
  function takeCode(code, form, dialog) {
    var error = $("[data-error]", form);
    if (!code.trim()) { error.textContent = W.code_empty; return false; }
    var item = itemOf(sheetStop, code);
    if (!item) {
      error.textContent = fill(W.not_this_stop, {code: code.trim()});
      return false;
    }
    var stop = sheetStop;
    var type = PRIMARY[stop.getAttribute("data-type")];
    var button = $('[data-event="' + type + '"]', item);
    closeSheet(dialog);
    if (button && button.disabled) { flash(stop, W.already); return true; }  // scanned before
    act(stop, type, item);
    return true;
  }

  // ------------------------------------------------------------------ camera

  var camera = null;

  function startCamera(dialog) {
    var video = $("[data-video]", dialog);
    var hint = $("[data-camera-hint]", dialog);
    hint.textContent = "";
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      hint.textContent = W.camera_off;
      return;
    }
    var session = {stream: null, timer: null, stopped: false};
    camera = session;
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(function (stream) {
        if (session.stopped) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
        session.stream = stream;
        video.srcObject = stream;
        return video.play().then(function () { return makeDecoder(); }).then(function (decode) {
          var form = $("form", dialog);
          function tick() {
            if (session.stopped) { return; }
            decode(video).then(function (text) {
              if (session.stopped) { return; }
              if (text && takeCode(text, form, dialog)) { return; }
              session.timer = setTimeout(tick, 250);
            });
          }
          tick();
        });
      })
      .catch(function () { hint.textContent = W.camera_off; });
  }

  function stopCamera() {
    if (!camera) { return; }
    camera.stopped = true;
    clearTimeout(camera.timer);
    if (camera.stream) { camera.stream.getTracks().forEach(function (t) { t.stop(); }); }
    camera = null;
  }

  // The browser's BarcodeDetector where it reads QR codes, else ZXing (vendored, loaded on
  // first use): both read QR and the linear barcodes printed on dossier receipts.
  function makeDecoder() {
    var wanted = ["qr_code", "code_128", "code_39", "data_matrix"];
    var native = window.BarcodeDetector && BarcodeDetector.getSupportedFormats
      ? BarcodeDetector.getSupportedFormats() : Promise.resolve([]);
    return native.then(function (formats) {
      var usable = wanted.filter(function (f) { return formats.indexOf(f) >= 0; });
      if (usable.indexOf("qr_code") >= 0) {
        document.documentElement.setAttribute("data-decoder", "native");
        var detector = new BarcodeDetector({formats: usable});
        return function (video) {
          return detector.detect(video).then(function (found) {
            return found.length ? found[0].rawValue : null;
          }, function () { return null; });
        };
      }
      return loadZxing().then(zxingDecoder);
    }, function () { return loadZxing().then(zxingDecoder); });
  }

  function loadZxing() {
    if (window.ZXing) { return Promise.resolve(window.ZXing); }
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = "/static/zxing/zxing.min.js";
      script.onload = function () { resolve(window.ZXing); };
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function zxingDecoder(Z) {
    document.documentElement.setAttribute("data-decoder", "zxing");
    var hints = new Map();
    hints.set(Z.DecodeHintType.POSSIBLE_FORMATS, [Z.BarcodeFormat.QR_CODE,
      Z.BarcodeFormat.CODE_128, Z.BarcodeFormat.CODE_39, Z.BarcodeFormat.DATA_MATRIX]);
    var reader = new Z.MultiFormatReader();
    reader.setHints(hints);
    var canvas = document.createElement("canvas");
    return function (video) {
      if (!video.videoWidth) { return Promise.resolve(null); }
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      canvas.getContext("2d", {willReadFrequently: true}).drawImage(video, 0, 0);
      try {
        var bitmap = new Z.BinaryBitmap(new Z.HybridBinarizer(
          new Z.HTMLCanvasElementLuminanceSource(canvas)));
        return Promise.resolve(reader.decodeWithState(bitmap).getText());
      } catch (e) {
        return Promise.resolve(null);  // no code in this frame
      }
    };
  }

  // ------------------------------------------------------------------ sending

  function sync() {
    if (syncing) { syncAgain = true; return syncing; }
    syncing = sendPending().catch(function () { retryLater(); }).then(function () {
      syncing = null;
      if (syncAgain) { syncAgain = false; return sync(); }
    });
    return syncing;
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(function () { sync(); sendPositions(); }, RETRY_MS);
  }

  function post(url, payload) {
    // Same origin with the session cookie: the browser adds Origin, as the server expects.
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: JSON.stringify(payload)});
  }

  function sendPending() {
    if (!cfg.can_record) { return Promise.resolve(); }
    return dbReady.then(function (db) {
      return db.getAllFromIndex("scans", "state", "pending");
    }).then(function (pending) {
      pending.sort(function (a, b) { return a.made - b.made; });
      var chain = Promise.resolve(true);
      for (var i = 0; i < pending.length; i += BATCH) {
        (function (batch) {
          chain = chain.then(function (go) { return go && sendBatch(batch); });
        })(pending.slice(i, i + BATCH));
      }
      return chain;
    }).then(function () { return checkFlags(); }).then(refresh);
  }

  // Sends one batch; resolves true to go on with the next, false to stop until later.
  function sendBatch(batch) {
    return post("/v1/scans", batch.map(function (r) { return r.body; })).then(function (answer) {
      setOnline(true);
      if (answer.status === 200) {
        return answer.json().then(function (data) { return keepResults(batch, data.results); });
      }
      if (answer.status === 401) { alertOnce("login", W.login_again); return false; }
      var refused = answer.status >= 400 && answer.status < 500 &&
        answer.status !== 408 && answer.status !== 429;
      if (refused && batch.length > 1) {  // find the one scan the server refuses
        return batch.reduce(function (chain, r) {
          return chain.then(function (go) { return go && sendBatch([r]); });
        }, Promise.resolve(true));
      }
      if (refused) { return keep(batch[0], {state: "rejected", reason: answer.status}); }
      retryLater();
      return false;
    }, function () { setOnline(false); retryLater(); return false; });
  }

  function keepResults(batch, results) {
    return dbReady.then(function (db) {
      var tx = db.transaction("scans", "readwrite");
      batch.forEach(function (r, i) {
        var result = results[i] || {};
        var status = result.status === "duplicate" ? (result.first_status || "stored")
          : result.status;
        r.state = status || "stored";
        r.reason = result.reason || null;
        r.acked = Date.now();
        if (result.dossier_status) { statuses[r.dossier] = result.dossier_status; }
        tx.store.put(r);
      });
      return tx.done;
    }).then(function () { return true; });
  }

  function keep(record, changes) {
    Object.keys(changes).forEach(function (k) { record[k] = changes[k]; });
    return dbReady.then(function (db) { return db.put("scans", record); })
      .then(function () { return true; });
  }

  // A flag stands only while the dossier's status has not caught up with the scan: a scan
  // that merely arrived before its predecessor (another phone, a shuffled resend) settles as
  // soon as the dossier shows the status it set, and the courier never hears of it.
  function standing(record) {
    var now = statuses[record.dossier];
    if (!now) { return true; }
    if (record.type === "delivered") { return now !== "delivered"; }
    if (record.type === "delivery_failed") { return rank(now) < rank("delivery_failed"); }
    return rank(now) < rank(record.type);
  }

  function checkFlags() {
    return dbReady.then(function (db) {
      return db.getAllFromIndex("scans", "state", "flagged");
    }).then(function (flagged) {
      if (!flagged.length) { return; }
      var unsure = flagged.some(standing);
      var fresh = unsure && navigator.onLine
        ? fetch(cfg.stops_api, {credentials: "same-origin", headers: {Accept: "application/json"}})
          .then(function (a) { return a.ok ? a.json() : null; })
          .then(function (data) { learnStatuses(data); }, function () {})
        : Promise.resolve();
      return fresh.then(function () {
        var settled = flagged.filter(function (r) { return !standing(r); });
        return settled.reduce(function (chain, r) {
          return chain.then(function () { return keep(r, {state: "settled"}); });
        }, Promise.resolve());
      });
    });
  }

  function learnStatuses(data) {
    (data && data.stops || []).forEach(function (stop) {
      if (stop.dossier && stop.status) { statuses[stop.dossier] = stop.status; }
      (stop.hand_over || stop.collect || []).forEach(function (d) {
        if (d.dossier && d.status) { statuses[d.dossier] = d.status; }
      });
    });
  }

  // ------------------------------------------------------------------ positions

  function takePosition() {
    if (!cfg.can_record || !navigator.geolocation || document.hidden) { return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      dbReady.then(function (db) {
        return db.add("positions", {at: new Date(p.timestamp || Date.now()).toISOString(),
          lat: p.coords.latitude, lon: p.coords.longitude,
          accuracy_m: p.coords.accuracy == null ? null : p.coords.accuracy});
      }).then(sendPositions);
    }, function () {}, {enableHighAccuracy: true, maximumAge: 60000, timeout: 30000});
  }

  function sendPositions() {
    return dbReady.then(function (db) {
      return db.getAll("positions").then(function (queued) {
        if (!queued.length) { return; }
        var batch = queued.slice(0, 200);
        var body = batch.map(function (q) {
          return {at: q.at, lat: q.lat, lon: q.lon, accuracy_m: q.accuracy_m};
        });
        return post(cfg.positions_api, body).then(function (answer) {
          // 4xx: a position the server will never take (too old, bad); drop it, keep working.
          if (answer.status < 500 && answer.status !== 401 && answer.status !== 429) {
            var tx = db.transaction("positions", "readwrite");
            batch.forEach(function (q) { tx.store.delete(q.id); });
            return tx.done;
          }
          retryLater();
        }, function () { retryLater(); });
      });
    });
  }

  // ------------------------------------------------------------------ showing

  var alerts = {};

  function alertOnce(key, text) { alerts[key] = text; drawAlerts(); }

  function drawAlerts() {
    var box = $("[data-alerts]");
    if (!box) { return; }
    box.textContent = "";
    Object.keys(alerts).forEach(function (key) {
      var p = document.createElement("p");
      p.className = "alert";
      p.setAttribute("data-alert", key);
      p.textContent = alerts[key];
      box.appendChild(p);
    });
    box.hidden = Object.keys(alerts).length === 0;
  }

  function words(record) {
    var values = {dossier: record.dossier, event: cfg.scans[record.type] || record.type,
      status: cfg.statuses[statuses[record.dossier]] || statuses[record.dossier] || "?"};
    var text;
    if (record.state === "conflict") { text = W.conflict; }
    else if (record.state === "rejected") { text = W.rejected; }
    else if (record.type === "delivered") {
      text = /wrong one-time code/.test(record.reason || "") ? W.wrong_code : W.refused;
    } else { text = W.flag; }
    text = fill(text, values);
    if (cfg.lang === "en" && record.reason && record.state !== "rejected") {
      text += " (" + record.reason + ")";
    }
    return text;
  }

  function flash(stop, text) {
    var note = $("[data-flash]", stop);
    if (!note) {
      note = document.createElement("p");
      note.className = "flash";
      note.setAttribute("data-flash", "");
      note.setAttribute("role", "status");
      stop.appendChild(note);
    }
    note.textContent = text;
  }

  function refresh() {
    return dbReady.then(function (db) { return db.getAll("scans"); }).then(function (all) {
      var mine = all.filter(function (r) { return r.courier === cfg.courier; });
      var pending = mine.filter(function (r) { return r.state === "pending"; }).length;
      $all("[data-pending]").forEach(function (el) { el.textContent = String(pending); });
      var done = {};
      var latest = {};
      mine.forEach(function (r) {
        var key = r.dossier + " " + r.type;
        if (KEPT[r.state]) { done[key] = r.state; }
        if (!latest[key] || latest[key].made < r.made) { latest[key] = r; }
      });
      $all("[data-event][data-dossier]").forEach(function (button) {
        var key = button.getAttribute("data-dossier") + " " + button.getAttribute("data-event");
        var state = done[key];
        // A failed attempt may be followed by another one: that button stays usable.
        if (!state || button.getAttribute("data-event") === "delivery_failed") {
          if (button.hasAttribute("data-done-here")) {  // a refused hand-over: try again
            button.disabled = false;
            button.removeAttribute("data-done");
            button.removeAttribute("data-done-here");
          }
          return;
        }
        button.disabled = true;
        button.setAttribute("data-done-here", "");
        button.setAttribute("data-done", state === "pending" ? "pending" : "sent");
      });
      // What the phone did shows at once, before the server's list is loaded again.
      Object.keys(latest).forEach(function (key) {
        var r = latest[key];
        if (!KEPT[r.state] || !cfg.statuses[r.type]) { return; }
        $all('[data-item][data-dossier="' + r.dossier + '"] .dstatus').forEach(function (el) {
          el.textContent = cfg.statuses[r.type];
        });
      });
      $all("[data-stop]").forEach(function (stop) {
        var primary = PRIMARY[stop.getAttribute("data-type")];
        var buttons = $all('[data-event="' + primary + '"][data-dossier]', stop);
        var all = buttons.length > 0 && buttons.every(function (b) { return b.disabled; });
        var li = stop.closest("li.stop");
        if (!li) { return; }
        li.classList.toggle("done", all || li.classList.contains("done-server"));
        var label = $("h3 .state", li);
        if (all && label) { label.textContent = W.done; }
      });
      $all("button.all[data-event]").forEach(function (button) {
        button.disabled = itemsToDo(stopOf(button), button.getAttribute("data-event")).length === 0;
      });
      Object.keys(alerts).forEach(function (k) { if (k !== "login") { delete alerts[k]; } });
      Object.keys(latest).forEach(function (key) {
        var r = latest[key];
        if (r.state === "flagged" || r.state === "conflict" || r.state === "rejected") {
          alerts[r.event_id] = words(r);
        }
      });
      drawAlerts();
    });
  }

  function setOnline(online) {
    $all("[data-online]").forEach(function (el) {
      el.textContent = online ? W.online : W.offline;
      el.classList.toggle("off", !online);
    });
  }

  // ------------------------------------------------------------------ wiring

  function wire() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) { return; }
      var stop = stopOf(button);
      if (button.hasAttribute("data-scan") && stop) { openSheet("scan", stop, null); return; }
      if (button.hasAttribute("data-event") && stop && !button.disabled) {
        var item = button.hasAttribute("data-dossier") ? button.closest("[data-item]") : null;
        act(stop, button.getAttribute("data-event"), item);
      }
    });
    $all("dialog[data-dialog]").forEach(function (dialog) {
      var kind = dialog.getAttribute("data-dialog");
      var form = $("form", dialog);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var submitter = event.submitter;
        if (submitter && submitter.hasAttribute("data-close")) { closeSheet(dialog); return; }
        submitSheet(kind, form, dialog);
      });
      form.addEventListener("change", function () {
        if (kind === "delivered") { showProofFields(form); }
      });
      dialog.addEventListener("close", stopCamera);
    });
    window.addEventListener("online", function () { setOnline(true); sync(); sendPositions(); });
    window.addEventListener("offline", function () { setOnline(false); });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) { sync(); }
    });
  }

  // The first load (right after log-in) is not yet under the service worker: put this very
  // page in its cache, so the list opens with no signal from now on.
  function keepForOffline() {
    if (!("serviceWorker" in navigator) || !window.caches) { return; }
    navigator.serviceWorker.ready.then(function () {
      return caches.open(CACHE).then(function (cache) {
        return cache.match(location.href, {ignoreVary: true}).then(function (hit) {
          return hit || (navigator.onLine ? cache.add(location.href) : null);
        });
      });
    }).then(function () {
      var ready = $("[data-ready]");
      if (ready) { ready.hidden = false; }
      document.documentElement.setAttribute("data-offline-ready", "1");
    }, function () {});
  }

  wire();
  setOnline(navigator.onLine);
  keepForOffline();
  refresh().then(function () {
    document.documentElement.setAttribute("data-courier-ready", "1");
    if (window.performance && performance.mark) { performance.mark("buuta-courier-ready"); }
    if (cfg.can_record) {
      sync();
      sendPositions();
      takePosition();
      setInterval(takePosition, cfg.position_every_s * 1000);
      setInterval(function () { sync(); }, 60000);
    }
  });
})();
