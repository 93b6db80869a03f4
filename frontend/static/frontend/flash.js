// The message a posted form comes back with (Django's messages) is rendered at the top
// of the page. When the form came back to a place further down (我的账号#devices, a
// member's row, an announcement's read list), it is moved there, where the person is
// looking: at the top it would be out of view. Without JavaScript it stays at the top.
const flash = document.querySelector("main > .flash");
const target = flash ? placeNamed(location.hash.slice(1)) : null;

if (target && !flash.contains(target)) {
  if (target.tagName === "TR") {
    const row = document.createElement("tr");
    row.className = "flash-row";
    const cell = row.insertCell();
    cell.colSpan = target.cells.length;
    cell.append(flash);
    target.after(row);
  } else {
    const heading = target.querySelector(":scope > h2, :scope > h3");
    if (heading) heading.after(flash);
    else target.prepend(flash);
  }
  target.scrollIntoView({ block: "start" });
}

function placeNamed(hash) {
  try {
    return hash ? document.getElementById(decodeURIComponent(hash)) : null;
  } catch {
    return null; // a malformed address: the message stays at the top
  }
}
