// 通行密钥 (accounts/passkeys.py): the browser's half of WebAuthn. On the login page,
// 用通行密钥登录 asks the device for one of its passkeys for this site; on 我的账号, the
// form makes a new one. Each asks the server for options (with a fresh challenge),
// hands them to navigator.credentials, and posts the answer back as JSON. Byte fields
// travel as base64url both ways (the `webauthn` library's JSON).

const supported = typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

function toBytes(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function toText(buffer) {
  let binary = "";
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function csrf() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

class ServerError extends Error {}

async function post(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ServerError("");
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    // a proxy's error page: said below as "could not be reached"
  }
  if (!response.ok || data.error) throw new ServerError(data.error || "");
  return data;
}

function credentialJSON(credential) {
  const r = credential.response;
  const response = { clientDataJSON: toText(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toText(r.attestationObject);
    if (typeof r.getTransports === "function") response.transports = r.getTransports();
  } else {
    response.authenticatorData = toText(r.authenticatorData);
    response.signature = toText(r.signature);
    if (r.userHandle) response.userHandle = toText(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment || undefined,
    clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
  };
}

/** What to tell the person when it failed: the server's words, else the browser's. */
function failure(error, strings) {
  if (error instanceof ServerError) return error.message || strings.offline;
  if (error && error.name === "InvalidStateError" && strings.exists) return strings.exists;
  if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) return strings.cancelled;
  return (error && error.message) || strings.cancelled;
}

/** After it worked: the page the server names, loaded anew even when it is this one
(the account page, whose list and message change). */
function go(url) {
  const target = new URL(url, window.location.href);
  if (target.pathname === window.location.pathname && target.search === window.location.search) {
    window.location.hash = target.hash;
    window.location.reload();
  } else {
    window.location.assign(target.href);
  }
}

function show(node, text) {
  node.textContent = text;
  node.hidden = !text;
}

/** One ceremony started by `button`: it waits (disabled, saying so) until `run` has
led to the next page, or shows why not and can be tried again. */
async function ceremony(button, strings, error, status, run) {
  show(error, "");
  button.disabled = true;
  status.textContent = strings.waiting;
  try {
    go((await run()).redirect);
    return;
  } catch (e) {
    show(error, failure(e, strings));
  }
  status.textContent = "";
  button.disabled = false;
}

const withIds = (list) => (list || []).map((c) => ({ ...c, id: toBytes(c.id) }));

// 我的账号: add a passkey.
const addForm = document.getElementById("passkey-add");
if (addForm && supported) {
  const strings = addForm.dataset;
  const error = document.getElementById("passkey-error");
  const status = document.getElementById("passkey-status");
  const button = addForm.querySelector("button[type=submit]");
  document.getElementById("passkey-unsupported").hidden = true;
  addForm.hidden = false;
  addForm.addEventListener("submit", (event) => {
    event.preventDefault();
    ceremony(button, strings, error, status, async () => {
      const fields = addForm.elements;
      const { options } = await post(strings.options, { password: fields.password.value });
      fields.password.value = "";
      const credential = await navigator.credentials.create({ publicKey: {
        ...options,
        challenge: toBytes(options.challenge),
        user: { ...options.user, id: toBytes(options.user.id) },
        excludeCredentials: withIds(options.excludeCredentials),
      } });
      return post(strings.add, { name: fields.name.value, credential: credentialJSON(credential) });
    });
  });
}

// The login page: log in with a passkey.
const login = document.getElementById("passkey-login");
if (login && supported) {
  const strings = login.dataset;
  const error = document.getElementById("passkey-login-error");
  const status = document.getElementById("passkey-login-status");
  const button = document.getElementById("passkey-login-button");
  login.hidden = false;
  button.addEventListener("click", () => ceremony(button, strings, error, status, async () => {
    const { options } = await post(strings.options, {});
    const credential = await navigator.credentials.get({ publicKey: {
      ...options,
      challenge: toBytes(options.challenge),
      allowCredentials: withIds(options.allowCredentials),
    } });
    const next = document.querySelector("#login-form input[name=next]");
    const shared = document.querySelector("#login-form input[name=public]"); // 公用电脑
    return post(strings.login, { credential: credentialJSON(credential), next: next ? next.value : "",
                                 public: Boolean(shared && shared.checked) });
  }));
}
