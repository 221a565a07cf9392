// Live dashboard: times in the viewer's time zone (UTC stays in the title),
// new timeline items and events as they are stored (server-sent events from
// /admin/stream, then the item's HTML fetched from the server, which escapes
// it), and tidy day groups after "load more". Loaded with defer.
(function () {
  "use strict";

  function localise(root) {
    (root || document).querySelectorAll("time[data-local]").forEach(function (el) {
      var d = new Date(el.getAttribute("datetime"));
      if (isNaN(d)) return;
      el.textContent = d.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
      el.removeAttribute("data-local");
    });
  }

  function fragment(url) {
    return fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    });
  }

  function processed(el) {
    if (window.htmx) window.htmx.process(el);
    localise(el);
  }

  function listen(url, onChange) {
    var source = new EventSource(url);
    source.addEventListener("open", function () {
      document.documentElement.setAttribute("data-live", "open"); // tests wait for it
    });
    source.addEventListener("error", function () {
      document.documentElement.setAttribute("data-live", "reconnecting");
    });
    source.addEventListener("change", function (ev) {
      try { onChange(JSON.parse(ev.data)); } catch (e) { /* a malformed message is skipped */ }
    });
    source.addEventListener("overflow", function () {
      var note = document.querySelector("[data-live-note]");
      if (note) note.hidden = false;
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  // User page: prepend new timeline items that match the timeline's filter.
  function liveTimeline() {
    var page = document.querySelector("[data-stream]");
    var list = document.querySelector("[data-testid=timeline-live]");
    if (!page || !list) return;
    listen(page.getAttribute("data-stream"), function (ch) {
      var kind = list.getAttribute("data-kind"), account = list.getAttribute("data-account");
      if (kind && ch.kind !== kind) return;
      if (account && ch.account !== account) return;
      fragment("/admin/timeline/" + encodeURIComponent(ch.kind) + "/" + encodeURIComponent(ch.id)).then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var item = tpl.content.firstElementChild;
        if (!item) return;
        item.classList.add("new");
        list.prepend(item);
        processed(item);
        var empty = document.querySelector("[data-testid=timeline-empty]");
        if (empty) empty.hidden = true;
      }).catch(function () { /* the next change or a reload shows it */ });
    });
  }

  // Events page: fetch rows newer than the newest shown, with the same filters.
  function liveEvents() {
    var body = document.querySelector("tbody[data-live-events]");
    if (!body) return;
    var base = body.getAttribute("data-live-events");
    var pending = false;
    function refresh() {
      pending = false;
      var top = body.querySelector("tr[data-seq]");
      var since = top ? top.getAttribute("data-seq") : "0";
      var url = base + (base.indexOf("?") < 0 ? "?" : "&") + "since=" + encodeURIComponent(since);
      fragment(url).then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = "<table><tbody>" + html + "</tbody></table>";
        var rows = Array.prototype.filter.call(tpl.content.querySelectorAll("tr"), function (r) { return r.hasAttribute("data-seq"); });
        for (var i = rows.length - 1; i >= 0; i--) {
          rows[i].classList.add("new");
          body.prepend(rows[i]);
          processed(rows[i]);
        }
        var empty = document.querySelector("[data-testid=events-empty]");
        if (empty && rows.length) empty.hidden = true;
      }).catch(function () {});
    }
    listen("/admin/stream", function (ch) {
      if (ch.kind !== "event" || pending) return;
      pending = true;
      setTimeout(refresh, 250);
    });
  }

  // After "load more", a day that continues from the previous page joins it.
  function mergeDays(root) {
    var days = (root || document).querySelectorAll(".timeline-days > section[data-day]");
    for (var i = 1; i < days.length; i++) {
      var prev = days[i - 1], cur = days[i];
      if (prev.getAttribute("data-day") === cur.getAttribute("data-day") && prev.nextElementSibling === cur) {
        var into = prev.querySelector("ol"), from = cur.querySelector("ol");
        while (from && from.firstChild) into.appendChild(from.firstChild);
        cur.remove();
        return mergeDays(root);
      }
    }
  }

  document.addEventListener("htmx:afterSettle", function (ev) {
    localise(ev.target.parentNode || document);
    mergeDays(document);
  });
  localise(document);
  liveTimeline();
  liveEvents();
})();
