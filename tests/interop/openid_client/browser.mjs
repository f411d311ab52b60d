// The citizen's browser in the code flow, over plain HTTP: it keeps cookies, follows Jati's
// redirects up to the app's redirect URI, and reads and submits forms as a browser would.
// Only what Jati's own pages need (one host, cookies by name and path); never a general
// HTML parser. The Python twin of this is in tests/http/test_oidc_interop.py.

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function unescapeHtml(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === "#") {
      const hex = name[1] === "x" || name[1] === "X";
      return String.fromCodePoint(parseInt(name.slice(hex ? 2 : 1), hex ? 16 : 10));
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

function attributes(tag) {
  const found = {};
  for (const [, name, , quoted, bare] of tag.matchAll(
    /([^\s"'=<>/]+)(\s*=\s*(?:"([^"]*)"|([^\s"'>]+)))?/g,
  )) {
    found[name.toLowerCase()] = unescapeHtml(quoted ?? bare ?? "");
  }
  return found;
}

/** The forms of a page: {action, method, inputs: [attributes], buttons: [attributes]}. */
export function formsOf(html) {
  const forms = [];
  for (const [, formTag, body] of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const form = attributes(formTag);
    forms.push({
      action: form.action ?? "",
      method: (form.method ?? "get").toLowerCase(),
      inputs: [...body.matchAll(/<input\b([^>]*)>/gi)].map((m) => attributes(m[1])),
      buttons: [...body.matchAll(/<button\b([^>]*)>/gi)].map((m) => attributes(m[1])),
    });
  }
  return forms;
}

/** A form's hidden fields (name -> value), as a browser submits them. */
export function hiddenFields(form) {
  return Object.fromEntries(
    form.inputs.filter((i) => i.type === "hidden" && i.name).map((i) => [i.name, i.value ?? ""]),
  );
}

export class Browser {
  /** @param {string} stopAt - the app's redirect URI: redirects there are not followed. */
  constructor(stopAt) {
    this.stopAt = stopAt;
    this.cookies = new Map(); // name -> {value, path}
  }

  #cookieHeader(url) {
    const path = new URL(url).pathname;
    return [...this.cookies]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith("/") ? c.path : c.path + "/"))
      .map(([name, c]) => `${name}=${c.value}`)
      .join("; ");
  }

  #keepCookies(response) {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...options] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq);
      const settings = Object.fromEntries(
        options.map((o) => {
          const [k, ...v] = o.split("=");
          return [k.toLowerCase(), v.join("=")];
        }),
      );
      if (settings["max-age"] !== undefined && Number(settings["max-age"]) <= 0) {
        this.cookies.delete(name);
      } else {
        this.cookies.set(name, { value: pair.slice(eq + 1), path: settings.path || "/" });
      }
    }
  }

  async #request(url, init = {}) {
    const headers = new Headers(init.headers);
    const cookie = this.#cookieHeader(url);
    if (cookie) headers.set("cookie", cookie);
    const response = await fetch(url, { ...init, headers, redirect: "manual" });
    this.#keepCookies(response);
    return response;
  }

  /**
   * GET `url` and follow redirects (302/303) until a page, or a redirect to the app.
   * @returns {Promise<{url: string, status: number, location?: string, html: string}>}
   */
  async open(url) {
    for (let hops = 0; hops < 10; hops++) {
      const response = await this.#request(url);
      const location = response.headers.get("location");
      if ((response.status === 302 || response.status === 303) && location) {
        const next = new URL(location, url).href;
        if (next.startsWith(this.stopAt)) {
          await response.body?.cancel();
          return { url, status: response.status, location: next, html: "" };
        }
        await response.body?.cancel();
        url = next;
        continue;
      }
      return { url, status: response.status, html: await response.text() };
    }
    throw new Error(`more than 10 redirects from ${url}`);
  }

  /** Submit `form` of the page at `pageUrl` with `fields`, then follow as open() does. */
  async submit(pageUrl, form, fields) {
    const action = new URL(form.action || pageUrl, pageUrl).href;
    const response = await this.#request(action, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    });
    const location = response.headers.get("location");
    if (!((response.status === 302 || response.status === 303) && location)) {
      const text = await response.text();
      throw new Error(`POST ${new URL(action).pathname} answered ${response.status}: ${text.slice(0, 300)}`);
    }
    await response.body?.cancel();
    const next = new URL(location, action).href;
    if (next.startsWith(this.stopAt)) {
      return { url: action, status: response.status, location: next, html: "" };
    }
    return this.open(next);
  }
}
