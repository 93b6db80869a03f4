// Every page registers the site's service worker (/sw.js, frontend/offline.py), which
// shows an offline page instead of the browser's error when a page cannot be loaded.
// Service workers need a secure context: HTTPS, or localhost.
if ("serviceWorker" in navigator && window.isSecureContext) {
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
    // Not essential: the site works the same without it.
  });
}
