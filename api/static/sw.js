// buuta's service worker: keeps the courier's stop list usable with no signal.
// Network first for stop lists (fresh when online), the last copy when offline;
// buuta's own static files from the cache once fetched.
var CACHE = "buuta-stops-v1";

// The offline page (in the language the phone last used) is kept from the start, for a page
// that was never loaded here.
var OFFLINE_URL = "/offline";

self.addEventListener("install", function (event) {
  self.skipWaiting();
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.add(OFFLINE_URL);
  }).catch(function () {}));
});
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var isStops = /^\/couriers\/[^/]+\/stops$/.test(url.pathname);
  var isStatic = url.pathname.indexOf("/static/") === 0;
  if (!isStops && !isStatic) { return; }
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) {
        return hit || caches.match(OFFLINE_URL).then(function (page) {
          return page || new Response("Mất kết nối · Offline",
            {status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}});
        });
      });
    })
  );
});
