// A "copy" button beside a read-only field: `data-copy` names the field's id. The
// button shows only where the browser can copy; the field can always be selected.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.status || "");
  if (!field || !navigator.clipboard) continue;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = button.dataset.done || "";
    } catch {
      field.select();
      if (status) status.textContent = button.dataset.failed || "";
    }
  });
}
for (const field of document.querySelectorAll("input[data-select-all]")) {
  field.addEventListener("focus", () => field.select());
}
