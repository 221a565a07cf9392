// sandbox-widget.js stands in for Smile's Wink Widget (smile.v2.js) when
// smiledash runs without Smile credentials. It defines the same global,
// SmileLinkModal, with the same options (userToken, templateId, and the older
// providers, topProviders, enableUpload, companyName, enableConsentPage) and
// the same callbacks, called with the same arguments (smile-api.md §3.3).
// Behind it, /sandbox/widget/* on the server that served this script plays
// Smile: it changes the fake Smile API and sends the signed webhooks Smile
// would send for each step.
//
// It works on any page, like Smile's: it needs nothing from the page but a
// <script> tag. It brings its own styles (injected once, scoped to its own
// .sbx-* elements, with a reset so the page's styles do not leak in), calls
// its server cross-origin without cookies (the Link token is the credential),
// keeps keyboard focus inside its dialog and closes on Escape.
//
// Everything is built with DOM methods and textContent: nothing the server or
// the person typed is ever parsed as HTML.
(function () {
  "use strict";

  var script = document.currentScript;
  var API = new URL("/sandbox/widget/", script ? script.src : window.location.href).href;

  var CSS = [
    // The reset first: the page's own rules (button, input, h2, …) stop at the widget.
    ".sbx-overlay, .sbx-overlay * { all: revert; box-sizing: border-box; }",
    ".sbx-overlay { position: fixed; inset: 0; z-index: 2147483000; display: flex; align-items: center; justify-content: center;",
    "  padding: 16px; background: rgba(10, 12, 20, .55); font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1b1f29; }",
    ".sbx-modal { background: #fff; color: #1b1f29; width: min(440px, 100%); max-height: 100%; overflow: auto; border-radius: 12px;",
    "  box-shadow: 0 12px 40px rgba(0, 0, 0, .3); display: flex; flex-direction: column; outline: none; }",
    ".sbx-head { display: flex; align-items: center; gap: 8px; padding: 12px 16px; border-bottom: 1px solid #e2e5ec; }",
    ".sbx-head h2 { flex: 1; font-size: 17px; font-weight: 600; margin: 0; }",
    ".sbx-tag { font-size: 11px; font-weight: 700; letter-spacing: .06em; color: #5a3d00; background: #ffd666; border-radius: 4px; padding: 2px 6px; }",
    ".sbx-overlay button { font: inherit; cursor: pointer; border-radius: 8px; border: 1px solid #3b5bdb; background: #3b5bdb; color: #fff; padding: 8px 14px; }",
    ".sbx-overlay button:focus-visible, .sbx-overlay input:focus-visible, .sbx-overlay summary:focus-visible { outline: 3px solid #91a7ff; outline-offset: 2px; }",
    ".sbx-overlay button.secondary { background: #fff; color: #1b1f29; border-color: #c5cad6; }",
    ".sbx-overlay button.danger { background: #c92a2a; border-color: #c92a2a; }",
    ".sbx-overlay button.sbx-close { background: transparent; color: #1b1f29; border: 0; font-size: 24px; line-height: 1; padding: 4px 10px; }",
    ".sbx-overlay button.sbx-link { background: transparent; border: 0; color: #3b5bdb; padding: 4px 0; text-decoration: underline; }",
    ".sbx-body { padding: 16px; }",
    ".sbx-body p { margin: 0 0 12px; }",
    ".sbx-form { display: grid; gap: 6px; }",
    ".sbx-overlay input { font: inherit; width: 100%; padding: 8px 10px; border: 1px solid #c5cad6; border-radius: 8px; background: #fff; color: #1b1f29; }",
    ".sbx-list { list-style: none; margin: 0 0 12px; padding: 0; display: grid; gap: 8px; }",
    ".sbx-overlay .sbx-list button { width: 100%; text-align: left; background: #fff; color: #1b1f29; border-color: #c5cad6; display: flex; justify-content: space-between; gap: 8px; }",
    ".sbx-list small { color: #5c6370; }",
    ".sbx-actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }",
    ".sbx-foot { border-top: 1px solid #e2e5ec; padding: 8px 16px; font-size: 13px; color: #5c6370; }",
    ".sbx-hints { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; padding-left: 18px; }",
    "@media (max-width: 600px) { .sbx-overlay { padding: 0; align-items: stretch; } .sbx-modal { width: 100%; border-radius: 0; } }"
  ].join("\n");

  var styled = false;

  // injectStyles adds the widget's stylesheet to the page once. A constructed
  // stylesheet needs no 'unsafe-inline' in the page's CSP; a <style> element
  // is the fallback for browsers without one.
  function injectStyles() {
    if (styled) {
      return;
    }
    styled = true;
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      document.adoptedStyleSheets = document.adoptedStyleSheets.concat([sheet]);
      return;
    } catch (e) {
      // fall through
    }
    var style = document.createElement("style");
    style.setAttribute("data-sbx-styles", "");
    style.textContent = CSS;
    (document.head || document.documentElement).appendChild(style);
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") {
        node.textContent = attrs[k];
      } else {
        node.setAttribute(k, attrs[k]);
      }
    });
    (children || []).forEach(function (c) {
      if (c) {
        node.appendChild(c);
      }
    });
    return node;
  }

  function button(label, sbx, extra) {
    var attrs = { type: "button", "data-sbx": sbx, text: label };
    Object.keys(extra || {}).forEach(function (k) { attrs[k] = extra[k]; });
    return el("button", attrs);
  }

  function now() {
    return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  // closeArgument is what onClose receives. Smile's pages document three
  // conventions: ({ reason }) (current docs and quickstart), (reason) (an
  // events page) and no argument (older pages). A handler whose first
  // parameter is literally named `reason` gets the string; any other gets
  // { reason }, whose string value is the reason too (so `arg == "exit"` and
  // string concatenation work), and a handler that takes nothing ignores it.
  function closeArgument(cb, reason) {
    var src = "";
    try {
      src = Function.prototype.toString.call(cb);
    } catch (e) {
      src = "";
    }
    var m = /^[^(=]*\(\s*([A-Za-z_$][\w$]*)\s*[,)=]/.exec(src) || /^\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
    if (m && m[1] === "reason") {
      return reason;
    }
    var arg = { reason: reason };
    Object.defineProperty(arg, "toString", { value: function () { return reason; } });
    Object.defineProperty(arg, "valueOf", { value: function () { return reason; } });
    return arg;
  }

  function SmileLinkModal(options) {
    if (!(this instanceof SmileLinkModal)) {
      return new SmileLinkModal(options);
    }
    this.options = options || {};
    this.session = null;
    this.overlay = null;
  }

  // fire calls a callback the page passed; noArg calls it with no argument.
  SmileLinkModal.prototype.fire = function (name, arg, noArg) {
    var cb = this.options[name];
    if (typeof cb !== "function") {
      return;
    }
    try {
      if (noArg) {
        cb();
      } else {
        cb(arg);
      }
    } catch (e) {
      if (window.console) {
        window.console.error("SmileLinkModal: " + name + " threw", e);
      }
    }
  };

  SmileLinkModal.prototype.ui = function (eventName, account, archive) {
    this.fire("onUIEvent", {
      eventName: eventName,
      eventTime: now(),
      mode: "SANDBOX",
      userId: this.session ? this.session.userId : null,
      account: account || null,
      archive: archive || null
    });
  };

  // call posts to the sandbox API, from any origin and without cookies. A 401
  // means the token expired: the widget goes away and fires onTokenExpired,
  // as Smile's does.
  SmileLinkModal.prototype.call = function (path, body) {
    var self = this;
    body.token = this.options.userToken;
    return window.fetch(API + path, {
      method: "POST",
      mode: "cors",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit"
    }).then(function (resp) {
      if (resp.status === 401) {
        self.remove();
        self.fire("onTokenExpired", null, true);
        throw new Error("token expired");
      }
      return resp.json().then(function (data) {
        if (!resp.ok) {
          throw new Error(data.error || ("HTTP " + resp.status));
        }
        return data;
      });
    });
  };

  SmileLinkModal.prototype.open = function () {
    var self = this;
    var old = document.querySelectorAll(".sbx-overlay");
    Array.prototype.forEach.call(old, function (n) { n.parentNode.removeChild(n); });
    injectStyles();
    this.returnFocus = document.activeElement;
    this.build();
    this.show("Loading", [el("p", { text: "Connecting to the sandbox…" })], "loading");
    this.call("open", {}).then(function (session) {
      self.session = session;
      self.session.providers = self.visibleProviders(session.providers || []);
      self.start();
    }, function (err) {
      if (err.message !== "token expired") {
        self.problem("The sandbox could not be reached (" + err.message + ").");
      }
    });
  };

  // visibleProviders applies the older options: `providers` restricts the list
  // (unknown ids are ignored; if none is known the whole list stays) and
  // `topProviders` pins some at the top.
  SmileLinkModal.prototype.visibleProviders = function (all) {
    var only = this.options.providers;
    var list = all;
    if (Array.isArray(only) && only.length > 0) {
      var picked = all.filter(function (p) { return only.indexOf(p.id) >= 0; });
      if (picked.length > 0) {
        list = picked;
      }
    }
    var top = Array.isArray(this.options.topProviders) ? this.options.topProviders.slice(0, 10) : [];
    return list.filter(function (p) { return top.indexOf(p.id) >= 0; })
      .sort(function (a, b) { return top.indexOf(a.id) - top.indexOf(b.id); })
      .concat(list.filter(function (p) { return top.indexOf(p.id) < 0; }));
  };

  // start shows the first screen: the consent page, unless a single provider
  // was asked for with enableConsentPage: false.
  SmileLinkModal.prototype.start = function () {
    if (this.single() && this.options.enableConsentPage === false) {
      this.login(this.session.providers[0]);
      return;
    }
    this.consent();
  };

  // single reports whether the page asked for exactly one provider, which
  // skips the provider list as Smile's older docs describe.
  SmileLinkModal.prototype.single = function () {
    var only = this.options.providers;
    return Array.isArray(only) && only.length === 1 && this.session.providers.length === 1 && this.session.providers[0].id === only[0];
  };

  SmileLinkModal.prototype.uploadEnabled = function () {
    return this.options.enableUpload !== false;
  };

  SmileLinkModal.prototype.company = function () {
    var name = this.options.companyName;
    return typeof name === "string" && name.trim() !== "" ? name.trim() : "";
  };

  SmileLinkModal.prototype.remove = function () {
    if (this.overlay && this.overlay.parentNode) {
      this.overlay.parentNode.removeChild(this.overlay);
    }
    document.removeEventListener("keydown", this.onKey, true);
    document.removeEventListener("focusin", this.onFocusIn, true);
    var back = this.returnFocus;
    this.returnFocus = null;
    if (back && back.focus && document.contains(back)) {
      back.focus();
    }
  };

  SmileLinkModal.prototype.close = function (reason) {
    this.remove();
    var cb = this.options.onClose;
    if (typeof cb === "function") {
      this.fire("onClose", closeArgument(cb, reason));
    }
  };

  SmileLinkModal.prototype.build = function () {
    var self = this;
    this.title = el("h2", { id: "sbx-title", "data-testid": "sbx-title" });
    this.body = el("div", { "class": "sbx-body", "data-testid": "sbx-body" });
    var close = button("×", "close", { "class": "sbx-close", "aria-label": "Close" });
    close.addEventListener("click", function () { self.close("close"); });
    var expire = button("Expire the token", "expire-token", { "class": "sbx-link" });
    expire.addEventListener("click", function () {
      self.call("expire", {}).then(function () {
        self.remove();
        self.fire("onTokenExpired", null, true);
      }, function () {});
    });
    this.modal = el("div", { "class": "sbx-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "sbx-title", tabindex: "-1", "data-testid": "sbx-modal" }, [
      el("div", { "class": "sbx-head" }, [el("span", { "class": "sbx-tag", text: "SANDBOX" }), this.title, close]),
      this.body,
      el("div", { "class": "sbx-foot" }, [el("span", { text: "Sandbox tools: " }), expire])
    ]);
    this.overlay = el("div", { "class": "sbx-overlay", "data-testid": "sbx-overlay" }, [this.modal]);
    // Keyboard focus stays in the dialog: Tab and Shift+Tab wrap around, focus
    // that lands outside comes back, and Escape closes as the close icon does.
    this.onKey = function (e) {
      if (e.key === "Escape" || e.key === "Esc") {
        e.preventDefault();
        e.stopPropagation();
        self.close("close");
        return;
      }
      if (e.key !== "Tab") {
        return;
      }
      var f = self.focusables();
      if (f.length === 0) {
        e.preventDefault();
        self.modal.focus();
        return;
      }
      var first = f[0];
      var last = f[f.length - 1];
      var active = document.activeElement;
      if (!self.modal.contains(active) || active === self.modal) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      } else if (e.shiftKey && active === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && active === last) {
        e.preventDefault();
        first.focus();
      }
    };
    this.onFocusIn = function (e) {
      if (self.overlay && !self.modal.contains(e.target)) {
        var f = self.focusables();
        (f[0] || self.modal).focus();
      }
    };
    document.addEventListener("keydown", this.onKey, true);
    document.addEventListener("focusin", this.onFocusIn, true);
    document.body.appendChild(this.overlay);
  };

  // focusables lists what Tab can reach in the dialog, in order.
  SmileLinkModal.prototype.focusables = function () {
    var nodes = this.modal.querySelectorAll("button, [href], input, select, textarea, summary, [tabindex]:not([tabindex='-1'])");
    return Array.prototype.filter.call(nodes, function (n) {
      return !n.disabled && n.getClientRects().length > 0;
    });
  };

  SmileLinkModal.prototype.show = function (title, nodes, screen) {
    this.title.textContent = title;
    this.body.textContent = "";
    this.body.setAttribute("data-screen", screen || "");
    var body = this.body;
    nodes.forEach(function (n) { body.appendChild(n); });
    var focus = body.querySelector("input, button");
    (focus || this.modal).focus();
  };

  // problem is the error page: Exit closes the widget with reason "error".
  SmileLinkModal.prototype.problem = function (text) {
    var self = this;
    var exit = button("Exit", "exit-error", { "class": "secondary" });
    exit.addEventListener("click", function () { self.close("error"); });
    this.show("Something went wrong", [el("p", { "data-testid": "sbx-problem", text: text }), el("div", { "class": "sbx-actions" }, [exit])], "problem");
  };

  SmileLinkModal.prototype.consent = function () {
    var self = this;
    var go = button("Continue", "consent-continue");
    go.addEventListener("click", function () {
      if (self.single()) {
        self.login(self.session.providers[0]);
      } else {
        self.providers();
      }
    });
    var who = this.company() || "This page";
    this.ui("ConsentPageOpened");
    this.show("Share your employment data", [
      el("p", { "data-testid": "sbx-consent-text", text: who + " would like to read your employment and income data from the account you connect. " +
        "In the sandbox nothing is real: test logins only." }),
      go
    ], "consent");
  };

  SmileLinkModal.prototype.providers = function () {
    var self = this;
    var list = el("ul", { "class": "sbx-list" });
    this.session.providers.forEach(function (p) {
      var b = button(p.name, "provider", { "data-provider-id": p.id });
      b.appendChild(el("small", { text: p.type }));
      b.addEventListener("click", function () { self.login(p); });
      list.appendChild(el("li", {}, [b]));
    });
    var nodes = [list];
    if (this.uploadEnabled()) {
      var upload = button("Upload documents instead", "upload-start", { "class": "secondary" });
      upload.addEventListener("click", function () { self.fileTypes(); });
      nodes.push(upload);
    }
    this.ui("ProviderListPageOpened");
    this.show("Choose your account", nodes, "providers");
  };

  SmileLinkModal.prototype.login = function (p) {
    var self = this;
    var login = el("input", { id: "sbx-login", name: "loginName", autocomplete: "username", "data-sbx": "login-name", required: "" });
    var password = el("input", { id: "sbx-password", name: "password", type: "password", autocomplete: "current-password", "data-sbx": "password" });
    var hints = el("ul", { "class": "sbx-hints" });
    this.session.testLogins.forEach(function (t) {
      hints.appendChild(el("li", { text: t.login + " / " + t.password + " (" + t.name + ")" }));
    });
    var actions = [el("button", { type: "submit", "data-sbx": "login-submit", text: "Sign in" })];
    if (!this.single()) {
      var back = button("Back", "back", { "class": "secondary" });
      back.addEventListener("click", function () { self.providers(); });
      actions.push(back);
    }
    var company = this.company();
    var form = el("form", { "class": "sbx-form", novalidate: "" }, [
      company ? el("p", { "data-testid": "sbx-login-company", text: "Your data goes to " + company + " through Smile; " + company + " never sees your password." }) : null,
      el("label", { "for": "sbx-login", text: "Email, mobile number or ID" }), login,
      el("label", { "for": "sbx-password", text: "Password" }), password,
      el("div", { "class": "sbx-actions" }, actions),
      el("details", {}, [el("summary", { text: "Sandbox test logins" }), hints])
    ]);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      self.submitLogin(p, login.value, password.value);
    });
    this.ui("LoginPageOpened", { providerId: p.id });
    this.show("Sign in to " + p.name, [form], "login");
  };

  SmileLinkModal.prototype.submitLogin = function (p, loginName, password) {
    var self = this;
    this.show("Connecting", [el("p", { text: "Checking your login with " + p.name + "…" })], "connecting");
    this.call("login", { providerId: p.id, loginName: loginName, password: password }).then(function (a) {
      var ids = { accountId: a.accountId, userId: a.userId, providerId: a.providerId };
      self.fire("onAccountCreated", ids);
      if (a.connected) {
        self.connected(p, ids);
      } else {
        self.failed(p, ids, a.errorCode);
      }
    }, function (err) {
      if (err.message !== "token expired") {
        self.problem(err.message);
      }
    });
  };

  SmileLinkModal.prototype.connected = function (p, ids) {
    var self = this;
    var doneBtn = button("Done", "done");
    doneBtn.addEventListener("click", function () { self.close("exit"); });
    var actions = [doneBtn];
    if (!this.single()) {
      var another = button("Connect another account", "link-another", { "class": "secondary" });
      another.addEventListener("click", function () { self.providers(); });
      actions.push(another);
    }
    var remove = button("Remove this account", "remove-account", { "class": "sbx-link" });
    remove.addEventListener("click", function () { self.revoke(p, ids); });
    this.ui("ConnectSuccessPageOpened", { providerId: ids.providerId, accountId: ids.accountId });
    this.fire("onAccountConnected", ids);
    this.show("Connected", [
      el("p", { "data-testid": "sbx-connected", text: "Your " + p.name + " account is connected." }),
      el("div", { "class": "sbx-actions" }, actions), remove
    ], "connected");
  };

  SmileLinkModal.prototype.failed = function (p, ids, code) {
    var self = this;
    var retry = button("Try again", "retry");
    retry.addEventListener("click", function () { self.login(p); });
    var exit = button("Exit", "exit-error", { "class": "secondary" });
    exit.addEventListener("click", function () { self.close("error"); });
    this.fire("onAccountError", { accountId: ids.accountId, userId: ids.userId, providerId: ids.providerId, errorCode: code });
    this.show("Could not connect", [
      el("p", { "data-testid": "sbx-error", text: "The login was not accepted (" + code + ")." }),
      el("div", { "class": "sbx-actions" }, [retry, exit])
    ], "error");
  };

  SmileLinkModal.prototype.revoke = function (p, ids) {
    var self = this;
    var yes = button("Yes, remove it", "confirm-remove", { "class": "danger" });
    yes.addEventListener("click", function () {
      self.call("accounts/remove", { accountId: ids.accountId }).then(function () {
        self.fire("onAccountRemoved", ids);
        if (self.single()) {
          self.login(p);
        } else {
          self.providers();
        }
      }, function () {});
    });
    var no = button("Keep it", "back", { "class": "secondary" });
    no.addEventListener("click", function () { self.connected(p, ids); });
    this.ui("AccountRevokePageOpened", { providerId: ids.providerId, accountId: ids.accountId });
    this.show("Remove " + p.name + "?", [
      el("p", { text: "We will stop sharing data from this account." }),
      el("div", { "class": "sbx-actions" }, [yes, no])
    ], "revoke");
  };

  SmileLinkModal.prototype.fileTypes = function () {
    var self = this;
    var list = el("ul", { "class": "sbx-list" });
    this.session.fileTypes.forEach(function (t) {
      var b = button(t.replace(/_/g, " ").toLowerCase(), "file-type", { "data-file-type": t });
      b.addEventListener("click", function () { self.fileType(t); });
      list.appendChild(el("li", {}, [b]));
    });
    var back = button("Back", "back", { "class": "secondary" });
    back.addEventListener("click", function () { self.providers(); });
    this.ui("FileTypeListPageOpened");
    this.show("What would you like to upload?", [list, back], "file-types");
  };

  SmileLinkModal.prototype.fileType = function (t) {
    var self = this;
    var up = button("Upload the sample document", "upload-submit");
    up.addEventListener("click", function () {
      self.call("uploads", { fileType: t }).then(function (u) {
        var uploads = [u];
        self.fire("onUploadsCreated", { uploads: uploads, userId: u.userId });
        self.uploaded(u);
      }, function () {});
    });
    this.ui("FileTypePageOpened", null, { fileType: t });
    this.show("Upload a document", [
      el("p", { text: "In the sandbox only Smile's sample documents are accepted; this uploads one for you." }), up
    ], "file-type");
  };

  SmileLinkModal.prototype.uploaded = function (u) {
    var self = this;
    var doneBtn = button("Done", "done");
    doneBtn.addEventListener("click", function () { self.close("exit"); });
    var remove = button("Remove this upload", "remove-upload", { "class": "sbx-link" });
    remove.addEventListener("click", function () {
      self.ui("RevokeArchivePageOpened", null, { fileType: u.type });
      self.call("uploads/remove", { archiveId: u.id }).then(function (r) {
        r.type = u.type;
        self.fire("onUploadsRemoved", { uploads: [r], userId: r.userId });
        self.providers();
      }, function () {});
    });
    this.ui("ArchiveSuccessPageOpened", null, { fileType: u.type });
    this.show("Uploaded", [
      el("p", { "data-testid": "sbx-uploaded", text: "Your document was uploaded and is being analysed." }),
      el("div", { "class": "sbx-actions" }, [doneBtn]), remove
    ], "uploaded");
  };

  window.SmileLinkModal = SmileLinkModal;
})();
