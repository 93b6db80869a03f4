// The offline page (frontend/templates/frontend/offline.html), shown by the service
// worker when a page could not be loaded: in the language the member chose (the
// language cookie; Chinese by default), and gone as soon as the server answers, by
// loading again the address that failed.
const chosen = (document.cookie.match(/(?:^|;\s*)django_language=([^;]+)/) || [])[1] || "";
const sections = [...document.querySelectorAll("[data-language]")];
const shown = sections.find((s) => chosen && s.dataset.language.startsWith(chosen.toLowerCase().slice(0, 2))) || sections[0];
for (const section of sections) section.hidden = section !== shown;
document.documentElement.lang = shown.dataset.language;

let trying = false;
async function tryAgain() {
  if (trying) return;
  trying = true;
  try {
    const answer = await fetch("/healthz", { cache: "no-store" });
    if (answer.status < 500) location.reload();
  } catch {
    // still offline
  } finally {
    trying = false;
  }
}

for (const button of document.querySelectorAll("[data-retry]")) button.addEventListener("click", tryAgain);
addEventListener("online", tryAgain);
setInterval(tryAgain, 5000);
