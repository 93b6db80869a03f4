// The members page: copy a just-made password link (the field is selectable without it).
const input = document.getElementById("issued-url");
const button = document.getElementById("copy-link");
const status = document.getElementById("copy-status");
const strings = { copied: button.dataset.copied, failed: button.dataset.failed };

document.getElementById("issued-link").focus();
if (navigator.clipboard) {
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
input.addEventListener("focus", () => input.select());
