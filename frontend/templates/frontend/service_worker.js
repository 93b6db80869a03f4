// Branchline's service worker (frontend/offline.py serves it at /sw.js, for the whole
// site). It does one thing: when a page cannot be loaded because the device or the
// server is offline, it answers with the offline page it keeps, which tries again by
// itself. Everything else goes to the network as if it were not here: no page, no data
// and no file of the site is ever answered from a cache while the network works.
"use strict";

const VERSION = "{{ version }}";
const CACHE = `branchline-offline-${VERSION}`;
const OFFLINE_PAGE = "{{ offline_url }}";
const KEPT = {{ kept|safe }}; // the offline page and what it loads

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(KEPT.map((url) => new Request(url, { cache: "reload", credentials: "same-origin" })));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("branchline-offline-") && name !== CACHE) await caches.delete(name);
    }
    // Page loads start while this worker wakes up, rather than after it.
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.mode === "navigate" && request.method === "GET") {
    // (A form sent while offline keeps the browser's own error: the offline page's
    // reload would send it again.)
    event.respondWith((async () => {
      try {
        const preloaded = await event.preloadResponse;
        return preloaded || await fetch(request);
      } catch (error) {
        const page = await caches.match(OFFLINE_PAGE, { cacheName: CACHE });
        if (page) return page;
        throw error;
      }
    })());
    return;
  }
  const url = new URL(request.url);
  if (request.method === "GET" && url.origin === self.location.origin && KEPT.includes(url.pathname)) {
    // The offline page's own stylesheet and script, when it is showing.
    event.respondWith(fetch(request).catch(async (error) => {
      const kept = await caches.match(url.pathname, { cacheName: CACHE });
      if (kept) return kept;
      throw error;
    }));
  }
});
