// The members page: find a member by name (or, for the secretary, username) as you
// type; copy a just-made password link (the field is selectable without it); an
// import's links are selected whole on focus.
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

// Finding a member: the rows whose name (or username) holds what is typed, in any case.
const filter = document.getElementById("member-filter");
if (filter) {
  const field = document.getElementById("member-filter-input");
  const said = document.getElementById("member-filter-status");
  const rows = [...document.querySelectorAll("#members-table tbody tr[data-find]")];
  filter.hidden = false;
  field.addEventListener("input", () => {
    const wanted = field.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      row.hidden = Boolean(wanted) && !row.dataset.find.includes(wanted);
      if (!row.hidden) shown += 1;
    }
    said.textContent = !wanted ? "" : shown
      ? said.dataset.shown.replace("{shown}", shown).replace("{total}", rows.length)
      : said.dataset.none;
  });
}
