/* Jati: an audit entry's inclusion proof checked in the auditor's own browser.

   The console's entry page shows an entry the server has already checked. This script checks
   it again here, with the browser's own cryptography (Web Crypto: SHA-256 and Ed25519), so
   that an auditor need not take the server's word for it:

   1. the leaf hash: SHA-256(0x00 || entry bytes) (RFC 9162 §2.1.1);
   2. the root the inclusion path leads to (RFC 9162 §2.1.3.2, the verification algorithm);
   3. that root and the tree size are those of the signed checkpoint (C2SP tlog-checkpoint);
   4. the checkpoint's Ed25519 signature by the log's key (C2SP signed-note: the signature
      line whose key name and 4-byte key hash match the verifier key, over the note's text).

   The data comes from attributes of `<section data-proof>`; the words of each outcome from
   the page (both languages). Allowed by its SHA-256 alone (CSP hash-source with the tag's
   integrity attribute); without it the page still shows the server's check. */
(function () {
  "use strict";

  var section = document.querySelector("[data-proof]");
  if (!section || !window.crypto || !window.crypto.subtle || !window.TextEncoder) {
    return;
  }
  var subtle = window.crypto.subtle;
  var status = section.querySelector("[data-proof-status]");
  var button = section.querySelector("button");

  function bytesOf(base64) {
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes;
  }

  function joined(parts) {
    var length = parts.reduce(function (sum, part) { return sum + part.length; }, 0);
    var out = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (part) { out.set(part, offset); offset += part.length; });
    return out;
  }

  function same(a, b) {
    if (a.length !== b.length) {
      return false;
    }
    for (var i = 0; i < a.length; i += 1) {
      if (a[i] !== b[i]) {
        return false;
      }
    }
    return true;
  }

  function sha256(bytes) {
    return subtle.digest("SHA-256", bytes).then(function (digest) { return new Uint8Array(digest); });
  }

  function nodeHash(left, right) {  // RFC 9162 §2.1.1: SHA-256(0x01 || left || right)
    return sha256(joined([new Uint8Array([1]), left, right]));
  }

  // RFC 9162 §2.1.3.2: the root an inclusion path leads to, or null if it cannot be one.
  function rootFromPath(index, size, leafHash, path) {
    if (index >= size) {
      return Promise.resolve(null);
    }
    var fn = index;
    var sn = size - 1;
    var chain = Promise.resolve(leafHash);
    var usable = true;
    path.forEach(function (sibling) {
      if (sn === 0) {
        usable = false;
        return;
      }
      var right = fn % 2 === 1 || fn === sn;
      chain = chain.then(function (r) { return right ? nodeHash(sibling, r) : nodeHash(r, sibling); });
      if (right && fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    });
    return chain.then(function (r) { return usable && sn === 0 ? r : null; });
  }

  // C2SP signed-note: the signature of the key named in the vkey, checked with Ed25519.
  function signatureHolds(note, vkey) {
    var parts = vkey.split("+");
    var name = parts[0];
    var key = bytesOf(parts[2]);
    if (key.length !== 33 || key[0] !== 1) {
      return Promise.resolve(false);
    }
    var split = note.indexOf("\n\n");
    if (split < 0) {
      return Promise.resolve(false);
    }
    var text = new TextEncoder().encode(note.slice(0, split + 1));
    if (!/^[0-9a-f]{8}$/.test(parts[1])) {
      return Promise.resolve(false);
    }
    var keyHash = new Uint8Array(parts[1].match(/../g).map(function (h) { return parseInt(h, 16); }));
    var lines = note.slice(split + 2).split("\n").filter(function (line) { return line; });
    var wanted = lines.map(function (line) {
      var fields = line.split(" ");
      if (fields.length !== 3 || fields[0] !== "\u2014" || fields[1] !== name) {
        return null;
      }
      var signature = bytesOf(fields[2]);
      return signature.length === 68 && same(signature.slice(0, 4), keyHash) ? signature.slice(4) : null;
    }).filter(function (signature) { return signature; });
    if (!wanted.length) {
      return Promise.resolve(false);
    }
    return subtle.importKey("raw", key.slice(1), { name: "Ed25519" }, false, ["verify"])
      .then(function (publicKey) {
        return subtle.verify({ name: "Ed25519" }, publicKey, wanted[0], text);
      });
  }

  function check() {
    var data = section.dataset;
    var entry = bytesOf(data.entry);
    var index = Number(data.leafIndex);
    var size = Number(data.treeSize);
    var path = JSON.parse(data.path).map(bytesOf);
    var note = data.note;
    var body = note.split("\n");
    status.textContent = data.checking;
    return sha256(joined([new Uint8Array([0]), entry]))
      .then(function (leafHash) { return rootFromPath(index, size, leafHash, path); })
      .then(function (root) {
        var matches = root !== null && body.length > 2 && body[1] === String(size) &&
          same(root, bytesOf(body[2]));
        return matches ? signatureHolds(note, data.vkey) : false;
      })
      .then(function (ok) {
        status.textContent = ok ? data.ok : data.bad;
        section.classList.toggle("proof-bad", !ok);
      })
      .catch(function () {
        status.textContent = data.unsupported;
      });
  }

  button.hidden = false;
  button.addEventListener("click", check);
  check();
})();
