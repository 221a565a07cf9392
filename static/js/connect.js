// connect.js boots the Wink Widget on the connect page and posts every one of
// its callbacks to our server. Boot data comes from the JSON block the server
// rendered (never from string-built script). Callbacks are posted with
// fetch(..., {keepalive: true}) so that the last one (onClose) survives the
// page being closed; sendBeacon is the fallback.
(function () {
  "use strict";

  var root = document.querySelector("[data-testid=connect-page]");
  var bootEl = document.getElementById("connect-boot");
  if (!root || !bootEl) {
    return;
  }
  var boot = JSON.parse(bootEl.textContent);
  var statusText = root.querySelector("[data-connect-message]");
  var done = root.querySelector("[data-testid=connect-done]");
  var doneTitle = root.querySelector("[data-done-title]");
  var doneText = root.querySelector("[data-done-text]");
  var reopen = root.querySelector("[data-reopen]");

  var CALLBACKS = [
    "onAccountCreated", "onAccountConnected", "onAccountRemoved", "onTokenExpired", "onClose",
    "onAccountError", "onUploadsCreated", "onUploadsRemoved", "onUIEvent"
  ];

  // state is exposed on the page root for people (styling) and tests.
  var opens = 0;

  // current is the widget instance on screen, and currentNodes what it added
  // to the page. Smile documents no close or destroy method (smile-api.md §3.1),
  // and a widget need not remove itself when its token expires, so before a new
  // instance opens, the old one is retired: its destroy() if it has one, and
  // whatever it appended to <body> removed, so exactly one modal is ever open.
  var current = null;
  var currentNodes = [];
  var watcher = window.MutationObserver ? new MutationObserver(function (records) {
    adopt(records);
  }) : null;

  function adopt(records) {
    records.forEach(function (r) {
      Array.prototype.forEach.call(r.addedNodes, function (n) {
        if (n.nodeType === 1 && n.parentNode === document.body) {
          currentNodes.push(n);
        }
      });
    });
  }

  function retire() {
    if (watcher) {
      adopt(watcher.takeRecords());
      watcher.disconnect();
    }
    var old = current;
    current = null;
    if (old && typeof old.destroy === "function") {
      try {
        old.destroy();
      } catch (e) {
        // a widget that fails to tear down is removed from the page below
      }
    }
    currentNodes.forEach(function (n) {
      if (n.parentNode) {
        n.parentNode.removeChild(n);
      }
    });
    currentNodes = [];
  }
  function setState(state, message) {
    root.setAttribute("data-state", state);
    root.setAttribute("data-opens", String(opens));
    if (message) {
      statusText.textContent = message;
    }
  }

  // post sends one callback. args is exactly what the widget passed; a callback
  // called with no argument (onTokenExpired, older onClose) sends no args.
  function post(name, hasArgs, args) {
    var body = { callback: name, session: boot.session };
    if (hasArgs) {
      body.args = args === undefined ? null : args;
    }
    var json;
    try {
      json = JSON.stringify(body);
    } catch (e) {
      json = JSON.stringify({ callback: name, session: boot.session, args: null });
    }
    var sent = false;
    if (window.fetch) {
      try {
        window.fetch(boot.eventsURL, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: json,
          keepalive: true,
          credentials: "same-origin"
        }).catch(function () { beacon(json); });
        sent = true;
      } catch (e) {
        sent = false;
      }
    }
    if (!sent) {
      beacon(json);
    }
  }

  function beacon(json) {
    if (navigator.sendBeacon) {
      navigator.sendBeacon(boot.eventsURL, new Blob([json], { type: "application/json" }));
    }
  }

  // newToken asks our server for a fresh Link token (Smile's POST /tokens).
  function newToken(reason) {
    return window.fetch(boot.tokenURL, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ session: boot.session, reason: reason }),
      credentials: "same-origin"
    }).then(function (resp) {
      if (!resp.ok) {
        throw new Error("token request refused: " + resp.status);
      }
      return resp.json();
    }).then(function (data) {
      boot.userToken = data.userToken;
      return data.userToken;
    });
  }

  var CLOSE_TEXT = {
    exit: ["You are done", "Your account is connected. You can close this page now."],
    error: ["The connection did not work", "Something went wrong while connecting. You can try again."],
    close: ["You closed the window", "Nothing more is needed if you are finished. You can also open it again."]
  };

  function closeReason(hasArgs, arg) {
    if (typeof arg === "string") {
      return arg;
    }
    if (arg && typeof arg.reason === "string") {
      return arg.reason;
    }
    return "close";
  }

  var handlers = {
    onTokenExpired: function () {
      retire();
      setState("refreshing", "Your session timed out. Reconnecting…");
      newToken("expired").then(open, failed);
    },
    onClose: function (hasArgs, arg) {
      var text = CLOSE_TEXT[closeReason(hasArgs, arg)] || CLOSE_TEXT.close;
      doneTitle.textContent = text[0];
      doneText.textContent = text[1];
      done.hidden = false;
      setState("closed", "The connection window is closed.");
      reopen.focus();
    }
  };

  // options builds one instance's options. Its callbacks are always posted
  // (they are what the widget said), but a retired instance no longer drives
  // the page: a late onClose or onTokenExpired from it must not close or
  // reopen the one now on screen.
  function options(generation) {
    var opts = { userToken: boot.userToken };
    if (boot.templateId) {
      opts.templateId = boot.templateId;
    }
    CALLBACKS.forEach(function (name) {
      opts[name] = function () {
        var hasArgs = arguments.length > 0;
        var arg = arguments[0];
        post(name, hasArgs, arg);
        if (handlers[name] && generation === opens) {
          handlers[name](hasArgs, arg);
        }
      };
    });
    return opts;
  }

  function open() {
    if (typeof window.SmileLinkModal !== "function") {
      failed(new Error("widget script did not load"));
      return;
    }
    retire();
    opens += 1;
    done.hidden = true;
    setState("open", "The secure window is open. Follow the steps in it.");
    if (watcher) {
      watcher.observe(document.body, { childList: true });
    }
    current = new window.SmileLinkModal(options(opens));
    current.open();
  }

  function failed() {
    setState("failed", "We could not open the connection window. Please reload this page, or open your link again.");
  }

  reopen.addEventListener("click", function () {
    reopen.disabled = true;
    setState("refreshing", "Opening the window again…");
    newToken("reopen").then(open, failed).then(function () { reopen.disabled = false; });
  });

  open();
})();
