// app.js is an integrator's page written from Smile's documented calling
// conventions (the quickstart's frontend/index.html and the Account Linking
// guide): get a Link token from our backend, pass it as userToken, handle
// every callback, get a fresh token on onTokenExpired and open again.
// Query parameters pass the older widget options (providers, topProviders,
// enableUpload, companyName, enableConsentPage) for the tests.
(function () {
  "use strict";
  var seen = [];
  window.seen = seen; // read by the browser test
  var log = document.getElementById("log");
  var again = document.getElementById("open");
  var userId = null;

  function record(name, arg) {
    seen.push({ callback: name, arg: arg === undefined ? null : JSON.parse(JSON.stringify(arg)) });
    var li = document.createElement("li");
    li.setAttribute("data-callback", name);
    li.textContent = name + " " + (arg === undefined ? "" : JSON.stringify(arg));
    log.appendChild(li);
  }

  var q = new URLSearchParams(window.location.search);
  function list(name) {
    return q.get(name) ? q.get(name).split(",") : undefined;
  }

  function open(token) {
    var opts = {
      userToken: token.accessToken,
      onAccountCreated: function (arg) { record("onAccountCreated", arg); },
      onAccountConnected: function (arg) { record("onAccountConnected", arg); },
      onAccountRemoved: function (arg) { record("onAccountRemoved", arg); },
      onAccountError: function (arg) { record("onAccountError", arg); },
      onUploadsCreated: function (arg) { record("onUploadsCreated", arg); },
      onUploadsRemoved: function (arg) { record("onUploadsRemoved", arg); },
      onUIEvent: function (arg) { record("onUIEvent", arg); },
      onTokenExpired: function () {
        record("onTokenExpired");
        refresh().then(open);
      },
      onClose: function ({ reason }) {
        record("onClose", { reason: reason });
        again.hidden = false;
      }
    };
    if (q.get("providers")) {
      opts.providers = list("providers");
    }
    if (q.get("topProviders")) {
      opts.topProviders = list("topProviders");
    }
    if (q.get("enableUpload")) {
      opts.enableUpload = q.get("enableUpload") === "true";
    }
    if (q.get("enableConsentPage")) {
      opts.enableConsentPage = q.get("enableConsentPage") === "true";
    }
    if (q.get("companyName")) {
      opts.companyName = q.get("companyName");
    }
    again.hidden = true;
    new window.SmileLinkModal(opts).open();
  }

  function getJSON(url, method) {
    return window.fetch(url, { method: method || "GET" }).then(function (resp) {
      if (!resp.ok) {
        throw new Error(url + ": HTTP " + resp.status);
      }
      return resp.json();
    });
  }

  // refresh asks our backend for a new token for the same user (POST /tokens).
  function refresh() {
    return getJSON("api/refresh_token?userId=" + encodeURIComponent(userId), "POST");
  }

  again.addEventListener("click", function () { refresh().then(open); });
  getJSON("api/create_link_token").then(function (data) {
    userId = data.userId;
    open(data);
  }).catch(function (err) { record("pageError", String(err)); });
})();
