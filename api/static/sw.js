// buuta's service worker: keeps the courier's stop list usable with no signal.
// Network first for stop lists (fresh when online), the last copy when offline;
// buuta's own static files from the cache once fetched.
var CACHE = "buuta-stops-v1";

self.addEventListener("install", function () { self.skipWaiting(); });
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
        return hit || new Response("Offline, and this page was never loaded here.",
          {status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}});
      });
    })
  );
});
