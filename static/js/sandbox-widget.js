// sandbox-widget.js stands in for Smile's Wink Widget (smile.v2.js) when
// smiledash runs without Smile credentials. It defines the same global,
// SmileLinkModal, with the same options (userToken, templateId) and the same
// callbacks, called with the same arguments (smile-api.md §3.3). Behind it,
// /sandbox/widget/* on this server plays Smile: it changes the fake Smile API
// and sends the signed webhooks Smile would send for each step.
//
// Everything is built with DOM methods and textContent: nothing the server or
// the person typed is ever parsed as HTML.
(function () {
  "use strict";

  var script = document.currentScript;
  var API = new URL("/sandbox/widget/", script ? script.src : window.location.href).href;

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

  // call posts to the sandbox API. A 401 means the token expired: the widget
  // goes away and fires onTokenExpired, as Smile's does.
  SmileLinkModal.prototype.call = function (path, body) {
    var self = this;
    body.token = this.options.userToken;
    return window.fetch(API + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
      credentials: "same-origin"
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
    this.build();
    this.show("Loading", [el("p", { text: "Connecting to the sandbox…" })]);
    this.call("open", {}).then(function (session) {
      self.session = session;
      self.consent();
    }, function () {});
  };

  SmileLinkModal.prototype.remove = function () {
    if (this.overlay && this.overlay.parentNode) {
      this.overlay.parentNode.removeChild(this.overlay);
    }
    document.removeEventListener("keydown", this.onKey);
  };

  SmileLinkModal.prototype.close = function (reason) {
    this.remove();
    this.fire("onClose", { reason: reason });
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
    var modal = el("div", { "class": "sbx-modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "sbx-title", "data-testid": "sbx-modal" }, [
      el("div", { "class": "sbx-head" }, [el("span", { "class": "sbx-tag", text: "SANDBOX" }), this.title, close]),
      this.body,
      el("div", { "class": "sbx-foot" }, [el("span", { text: "Sandbox tools: " }), expire])
    ]);
    this.overlay = el("div", { "class": "sbx-overlay", "data-testid": "sbx-overlay" }, [modal]);
    this.onKey = function (e) {
      if (e.key === "Escape") {
        self.close("close");
      }
    };
    document.addEventListener("keydown", this.onKey);
    document.body.appendChild(this.overlay);
  };

  SmileLinkModal.prototype.show = function (title, nodes, screen) {
    this.title.textContent = title;
    this.body.textContent = "";
    this.body.setAttribute("data-screen", screen || "");
    var body = this.body;
    nodes.forEach(function (n) { body.appendChild(n); });
    var focus = body.querySelector("input, button");
    if (focus) {
      focus.focus();
    }
  };

  SmileLinkModal.prototype.consent = function () {
    var self = this;
    var go = button("Continue", "consent-continue");
    go.addEventListener("click", function () { self.providers(); });
    this.ui("ConsentPageOpened");
    this.show("Share your employment data", [
      el("p", { text: "This page would like to read your employment and income data from the account you connect. " +
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
    var upload = button("Upload documents instead", "upload-start", { "class": "secondary" });
    upload.addEventListener("click", function () { self.fileTypes(); });
    this.ui("ProviderListPageOpened");
    this.show("Choose your account", [list, upload], "providers");
  };

  SmileLinkModal.prototype.login = function (p) {
    var self = this;
    var login = el("input", { id: "sbx-login", name: "loginName", autocomplete: "username", "data-sbx": "login-name", required: "" });
    var password = el("input", { id: "sbx-password", name: "password", type: "password", autocomplete: "current-password", "data-sbx": "password" });
    var hints = el("ul", { "class": "sbx-hints" });
    this.session.testLogins.forEach(function (t) {
      hints.appendChild(el("li", { text: t.login + " / " + t.password + " (" + t.name + ")" }));
    });
    var back = button("Back", "back", { "class": "secondary" });
    back.addEventListener("click", function () { self.providers(); });
    var form = el("form", { "class": "sbx-form", novalidate: "" }, [
      el("label", { "for": "sbx-login", text: "Email, mobile number or ID" }), login,
      el("label", { "for": "sbx-password", text: "Password" }), password,
      el("div", { "class": "sbx-actions" }, [el("button", { type: "submit", "data-sbx": "login-submit", text: "Sign in" }), back]),
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
        self.show("Something went wrong", [el("p", { text: err.message })], "error");
      }
    });
  };

  SmileLinkModal.prototype.connected = function (p, ids) {
    var self = this;
    var doneBtn = button("Done", "done");
    doneBtn.addEventListener("click", function () { self.close("exit"); });
    var another = button("Connect another account", "link-another", { "class": "secondary" });
    another.addEventListener("click", function () { self.providers(); });
    var remove = button("Remove this account", "remove-account", { "class": "sbx-link" });
    remove.addEventListener("click", function () { self.revoke(p, ids); });
    this.ui("ConnectSuccessPageOpened", { providerId: ids.providerId, accountId: ids.accountId });
    this.fire("onAccountConnected", ids);
    this.show("Connected", [
      el("p", { "data-testid": "sbx-connected", text: "Your " + p.name + " account is connected." }),
      el("div", { "class": "sbx-actions" }, [doneBtn, another]), remove
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
        self.providers();
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
