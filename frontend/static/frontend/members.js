// The members page: copy a just-made password link (the field is selectable without it);
// an import's links are selected whole on focus.
for (const field of document.querySelectorAll(".link-field")) field.addEventListener("focus", () => field.select());
const imported = document.getElementById("imported");
if (imported) imported.focus();

const input = document.getElementById("issued-url");
const button = document.getElementById("copy-link");
const status = document.getElementById("copy-status");
const strings = button ? { copied: button.dataset.copied, failed: button.dataset.failed } : {};

if (input) document.getElementById("issued-link").focus();
if (input && navigator.clipboard) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
      status.textContent = strings.copied;
    } catch {
      input.select();
      status.textContent = strings.failed;
    }
  });
}
if (input) input.addEventListener("focus", () => input.select());
