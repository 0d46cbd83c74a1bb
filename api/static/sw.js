// buuta's service worker: keeps the courier's stop list and its assets usable with no signal.
// Stop lists: network first (fresh when online, within a few seconds), the last copy offline.
// buuta's own static files: from the cache at once, refreshed in the background.
// Scans are not queued here but in the page's IndexedDB (static/courier.js).
var CACHE = "buuta-stops-v3";
var OFFLINE_URL = "/offline";
var LAST_LIST = "/__buuta/last-stop-list";  // what the installed app opens offline at "/"
var NETWORK_WAIT_MS = 6000;
var PRECACHE = [
  OFFLINE_URL,
  "/static/buuta-pages.css",
  "/static/courier.js",
  "/static/idb/idb.umd.js",
  "/static/zxing/zxing.min.js",
  "/static/manifest.webmanifest",
  "/static/icons/icon-192.png",
  "/static/icons/icon-512.png",
  "/favicon.ico"
];

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    // One by one: a file that fails to load must not keep the others out.
    return Promise.all(PRECACHE.map(function (url) {
      return cache.add(url).catch(function () {});
    }));
  }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("buuta-stops-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, alsoAs) {
  var timeout;
  var network = fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      var again = alsoAs ? response.clone() : null;
      caches.open(CACHE).then(function (cache) {
        cache.put(request, copy);
        if (again) { cache.put(alsoAs, again); }
      });
    }
    return response;
  });
  var slow = new Promise(function (_resolve, reject) {
    timeout = setTimeout(reject, NETWORK_WAIT_MS);
  });
  return Promise.race([network, slow]).then(function (response) {
    clearTimeout(timeout);
    return response;
  }).catch(function () {
    // The page varies on Cookie and Accept-Language, which a copy put by the page itself
    // (courier.js, right after log-in) does not carry: the one phone's copy is the one wanted.
    return caches.match(request, {ignoreVary: true}).then(function (hit) {
      return hit || network.catch(function () { return offlinePage(); });
    });
  });
}

function offlinePage() {
  return caches.match(OFFLINE_URL, {ignoreVary: true}).then(function (page) {
    return page || new Response("Mất kết nối", {
      status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}});
  });
}

function cacheFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request).then(function (hit) {
      var network = fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
      if (hit) {
        network.catch(function () {});
        return hit;
      }
      return network;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (/^\/couriers\/[^/]+\/stops$/.test(url.pathname)) {
    event.respondWith(networkFirst(request, LAST_LIST));
  } else if (url.pathname === "/" && request.mode === "navigate") {
    // The installed app starts at "/": online it goes to today's list; offline, the last one.
    event.respondWith(fetch(request).catch(function () {
      return caches.match(LAST_LIST, {ignoreVary: true}).then(function (hit) {
        return hit || offlinePage();
      });
    }));
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/favicon.ico") {
    event.respondWith(cacheFirst(request));
  }
});
