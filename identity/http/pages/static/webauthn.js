/* Jati: passkeys (WebAuthn Level 3) on the sign-in, activation and account pages.

   The pages' only script, served same-origin and allowed by its SHA-256 alone (CSP Level 3
   hash-source with the tag's integrity attribute). It only enhances forms the server renders
   `hidden`: without JavaScript, or in a browser without passkeys, they stay hidden and the
   password forms work as before.

   A form `<form data-passkey="create|get" data-passkey-options="URL">` holds the CSRF token, a
   hidden `credential` field and, for a registration, an optional `name`. On submit the script
   POSTs the form to URL (same origin; the server answers PublicKeyCredential*OptionsJSON and
   keeps the ceremony's state in a sealed cookie), calls navigator.credentials.create/get,
   puts the response as JSON (RegistrationResponseJSON / AuthenticationResponseJSON, §5.1)
   in `credential`, and submits the form. Messages come from the page (both languages):
   `data-passkey-error`, `data-passkey-cancelled`; a JSON `message` from the server wins. */
(function () {
  "use strict";

  var PKC = window.PublicKeyCredential;
  if (!PKC || !navigator.credentials || !window.fetch) {
    return;
  }

  // ---- base64url (RFC 4648 §5, unpadded), for browsers without the Level 3 JSON helpers

  function toBuffer(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(json) {
    if (typeof PKC.parseCreationOptionsFromJSON === "function") {
      return PKC.parseCreationOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      user: Object.assign({}, json.user, { id: toBuffer(json.user.id) }),
      excludeCredentials: descriptors(json.excludeCredentials)
    });
  }

  function requestOptions(json) {
    if (typeof PKC.parseRequestOptionsFromJSON === "function") {
      return PKC.parseRequestOptionsFromJSON(json);
    }
    return Object.assign({}, json, {
      challenge: toBuffer(json.challenge),
      allowCredentials: descriptors(json.allowCredentials)
    });
  }

  // ---- the response, as JSON: only the members Jati reads (the form field stays small)

  function responseJSON(kind, credential) {
    var full = typeof credential.toJSON === "function" ? credential.toJSON() : null;
    var raw = credential.response;
    var response;
    if (full) {
      response = full.response;
    } else if (kind === "create") {
      response = {
        clientDataJSON: toText(raw.clientDataJSON),
        attestationObject: toText(raw.attestationObject),
        transports: typeof raw.getTransports === "function" ? raw.getTransports() : []
      };
    } else {
      response = {
        clientDataJSON: toText(raw.clientDataJSON),
        authenticatorData: toText(raw.authenticatorData),
        signature: toText(raw.signature),
        userHandle: raw.userHandle ? toText(raw.userHandle) : null
      };
    }
    var kept = kind === "create"
      ? ["clientDataJSON", "attestationObject", "transports"]
      : ["clientDataJSON", "authenticatorData", "signature", "userHandle"];
    var trimmed = {};
    kept.forEach(function (member) {
      if (response[member] !== undefined && response[member] !== null) {
        trimmed[member] = response[member];
      }
    });
    var rawId = full ? full.rawId : toText(credential.rawId);
    return { id: rawId, rawId: rawId, type: credential.type, response: trimmed };
  }

  // ---- the forms

  function say(form, text) {
    var status = form.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = text;
      status.hidden = false;
      status.focus();
    }
  }

  function ceremony(form, kind, button) {
    var body = new URLSearchParams(new FormData(form));
    button.disabled = true;
    return fetch(form.getAttribute("data-passkey-options"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (answer) {
      return answer.json().then(function (json) {
        if (!answer.ok) {
          throw { message: json.message };
        }
        return kind === "create"
          ? navigator.credentials.create({ publicKey: creationOptions(json) })
          : navigator.credentials.get({ publicKey: requestOptions(json) });
      });
    }).then(function (credential) {
      if (!credential) {
        throw { name: "NotAllowedError" };
      }
      form.elements.namedItem("credential").value =
        JSON.stringify(responseJSON(kind, credential));
      form.submit();
    }).catch(function (error) {
      button.disabled = false;
      var key = error && error.name === "NotAllowedError"
        ? "data-passkey-cancelled" : "data-passkey-error";
      say(form, (error && error.message && !error.name) ? error.message : form.getAttribute(key));
    });
  }

  function enhance(form) {
    var kind = form.getAttribute("data-passkey");
    if (kind !== "create" && kind !== "get") {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button && !button.disabled) {
        ceremony(form, kind, button);
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-passkey]"), enhance);
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-section]"),
      function (element) { element.hidden = false; });
    Array.prototype.forEach.call(document.querySelectorAll("[data-passkey-fallback]"),
      function (element) { element.hidden = true; });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
