// Live dashboard over server-sent events (/admin/stream, "change" messages
// that name what was stored, never its content). One stream per page, three
// uses of it:
// - the events list fetches the rows stored after the newest it shows; when
//   more arrived than a page holds, the server adds a row saying how many were
//   not shown, with a link that fills the gap (nothing is dropped silently);
// - a user's timeline fetches each new item's HTML (escaped by the server) and
//   puts it in time order under its day, in the page's time zone, grouping
//   runs of onUIEvent callbacks unless the filter asks for them one by one;
// - other pages mark regions (data-live-region="kinds", with an id): a change
//   of those kinds shows "N new — refresh", or with data-live-auto swaps in
//   the regions of a fresh copy of the page at most once a second.
// Loaded with defer after clock.js.
(function () {
  "use strict";
  var clock = window.smiledashClock;

  function fragment(url) {
    return fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    });
  }

  function processed(el) {
    if (window.htmx) window.htmx.process(el);
    if (clock) clock.process(el);
  }

  var listeners = [], catchUps = [];
  function on(fn) { listeners.push(fn); }
  function connect() {
    if (!listeners.length) return;
    var page = document.querySelector("[data-stream]");
    var source = new EventSource(page ? page.getAttribute("data-stream") : "/admin/stream");
    source.addEventListener("open", function () {
      document.documentElement.setAttribute("data-live", "open"); // tests wait for it
    });
    source.addEventListener("error", function () {
      document.documentElement.setAttribute("data-live", "reconnecting");
    });
    source.addEventListener("change", function (ev) {
      var ch;
      try { ch = JSON.parse(ev.data); } catch (e) { return; /* a malformed message is skipped */ }
      listeners.forEach(function (fn) { fn(ch); });
    });
    source.addEventListener("overflow", function () {
      // The server dropped changes for this page: a list that catches up by
      // itself does so, others say a reload is needed.
      if (catchUps.length) { catchUps.forEach(function (fn) { fn(); }); return; }
      var note = document.querySelector("[data-live-note]");
      if (note) note.hidden = false;
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }

  function rowsOf(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = "<table><tbody>" + html + "</tbody></table>";
    return Array.prototype.slice.call(tpl.content.querySelectorAll("tr"));
  }

  // Events page: one refresh at a time, from the newest row shown.
  function liveEvents() {
    var body = document.querySelector("tbody[data-live-events]");
    if (!body) return;
    var base = body.getAttribute("data-live-events");
    var busy = false, again = false, timer = null;
    function since() {
      var top = body.querySelector("tr[data-seq]"), gap = body.querySelector("tr[data-before]");
      var n = top ? Number(top.getAttribute("data-seq")) : 0;
      // A gap row above every event row (a scan found none) still moves the tail on.
      if (gap && (!top || gap.compareDocumentPosition(top) & Node.DOCUMENT_POSITION_FOLLOWING)) {
        n = Math.max(n, Number(gap.getAttribute("data-before")) - 1);
      }
      return n;
    }
    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      var url = base + (base.indexOf("?") < 0 ? "?" : "&") + "since=" + since();
      fragment(url).then(function (html) {
        var first = body.firstElementChild, added = 0;
        rowsOf(html).forEach(function (r) {
          var seq = r.getAttribute("data-seq");
          if (seq === null && !r.hasAttribute("data-before")) return; // not a row or gap
          if (seq !== null && body.querySelector('tr[data-seq="' + seq + '"]')) return;
          r.classList.add("new");
          body.insertBefore(r, first);
          processed(r);
          added++;
        });
        var empty = document.querySelector("[data-testid=events-empty]");
        if (empty && added) empty.hidden = true;
      }).catch(function () { /* the next change retries from the same row */ }).then(function () {
        busy = false;
        if (again) { again = false; schedule(); }
      });
    }
    function schedule() {
      if (timer) return;
      timer = setTimeout(function () { timer = null; refresh(); }, 200);
    }
    on(function (ch) { if (ch.kind === "event") schedule(); });
    catchUps.push(schedule);
  }

  // Timeline: regroup rebuilds the day sections from the items in time order,
  // in the page's zone; live items and "load more" pages go through it.
  function order(li) { return li.getAttribute("data-order") || ""; }

  function regroup() {
    var root = document.querySelector(".timeline-days");
    if (!root) return;
    var seen = {}, open = {};
    root.querySelectorAll("[data-testid=ui-group] details[open] li[data-item]").forEach(function (li) {
      open[li.getAttribute("data-item")] = true;
    });
    var items = Array.prototype.filter.call(root.querySelectorAll("li[data-item]"), function (li) {
      var k = li.getAttribute("data-item");
      if (seen[k]) return false;
      seen[k] = true;
      return true;
    });
    items.sort(function (a, b) { return order(a) < order(b) ? 1 : order(a) > order(b) ? -1 : 0; });
    var pager = root.querySelector(":scope > .pager");
    Array.prototype.slice.call(root.children).forEach(function (c) { if (c !== pager) c.remove(); });
    var grouping = root.hasAttribute("data-group-ui");
    var key = null, list = null, run = [];
    function flush() {
      if (run.length > 1 && grouping) list.appendChild(uiGroup(run, open));
      else run.forEach(function (li) { list.appendChild(li); });
      run = [];
    }
    items.forEach(function (li) {
      var ts = Number(li.getAttribute("data-ts")), k = clock.dayKey(ts);
      if (k !== key) {
        if (list) flush();
        key = k;
        var section = document.createElement("section");
        section.className = "day";
        section.setAttribute("data-day", k);
        section.setAttribute("data-testid", "timeline-day");
        var head = document.createElement("h3"), zone = document.createElement("span");
        head.className = "day-head";
        head.textContent = clock.dayLabel(ts) + " ";
        zone.className = "muted small";
        zone.textContent = "(" + clock.zone() + ")";
        head.appendChild(zone);
        list = document.createElement("ol");
        list.className = "plain";
        section.appendChild(head);
        section.appendChild(list);
        root.insertBefore(section, pager);
      }
      if (li.hasAttribute("data-ui")) { run.push(li); return; }
      flush();
      list.appendChild(li);
    });
    if (list) flush();
    if (clock) clock.process(root); // group rows copy their items' times
  }

  // uiGroup folds a run of onUIEvent callbacks (newest first) into one row.
  function uiGroup(run, open) {
    var g = document.createElement("li"), d = document.createElement("details"), s = document.createElement("summary");
    g.className = "item item-callback ui-group";
    g.setAttribute("data-testid", "ui-group");
    g.setAttribute("data-count", String(run.length));
    var newest = run[0].querySelector("time"), oldest = run[run.length - 1].querySelector("time");
    if (newest) s.appendChild(newest.cloneNode(true));
    var badge = document.createElement("span"), what = document.createElement("span"), span = document.createElement("span");
    badge.className = "badge claim";
    badge.textContent = "browser claims";
    what.className = "mono";
    what.textContent = " " + run.length + " × onUIEvent ";
    span.className = "muted small";
    span.textContent = "since ";
    if (oldest) span.appendChild(oldest.cloneNode(true));
    s.appendChild(document.createTextNode(" "));
    s.appendChild(badge);
    s.appendChild(what);
    s.appendChild(span);
    var inner = document.createElement("ol");
    inner.className = "plain";
    run.forEach(function (li) {
      if (open[li.getAttribute("data-item")]) d.open = true;
      inner.appendChild(li);
    });
    d.appendChild(s);
    d.appendChild(inner);
    g.appendChild(d);
    return g;
  }

  function liveTimeline() {
    var root = document.querySelector(".timeline-days");
    if (!root || !document.querySelector("[data-stream]")) return;
    var kind = root.getAttribute("data-kind"), account = root.getAttribute("data-account");
    var from = Date.parse(root.getAttribute("data-from") || ""), to = Date.parse(root.getAttribute("data-to") || "");
    on(function (ch) {
      if (ch.kind !== "event" && ch.kind !== "callback" && ch.kind !== "action") return;
      if ((kind && ch.kind !== kind) || (account && ch.account !== account)) return;
      var at = Date.parse(ch.at);
      if ((!isNaN(from) && at < from) || (!isNaN(to) && at >= to)) return;
      var id = ch.kind + "-" + ch.id;
      if (root.querySelector('[data-item="' + id + '"]')) return;
      fragment("/admin/timeline/" + encodeURIComponent(ch.kind) + "/" + encodeURIComponent(ch.id)).then(function (html) {
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var li = tpl.content.firstElementChild;
        if (!li || root.querySelector('[data-item="' + id + '"]')) return;
        // Older than the last item above "load more": that page will show it.
        var items = root.querySelectorAll("li[data-item]"), last = items[items.length - 1];
        if (root.querySelector(":scope > .pager") && last && order(li) < order(last)) return;
        li.classList.add("new");
        root.appendChild(li);
        regroup();
        processed(li);
        var empty = document.querySelector("[data-testid=timeline-empty]");
        if (empty) empty.hidden = true;
      }).catch(function () { /* the next change or a reload shows it */ });
    });
  }

  // Other pages: regions refreshed from a fresh copy of the page.
  function liveRegions() {
    var regions = document.querySelectorAll("[data-live-region][id]");
    if (!regions.length) return;
    var kinds = {}, auto = false, count = 0, timer = null;
    regions.forEach(function (r) {
      r.getAttribute("data-live-region").split(",").forEach(function (k) { kinds[k.trim()] = true; });
      if (r.hasAttribute("data-live-auto")) auto = true;
    });
    function notice() { return document.querySelector("[data-live-notice]"); }
    function apply() {
      timer = null;
      fetch(location.href, { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live-region][id]").forEach(function (old) {
          var next = fresh.getElementById(old.id);
          if (!next) return;
          next = document.importNode(next, true);
          old.replaceWith(next);
          processed(next);
        });
        count = 0;
        var n = notice();
        if (n) n.hidden = true;
      }).catch(function () { /* the next change tries again */ });
    }
    on(function (ch) {
      if (!kinds[ch.kind]) return;
      count++;
      if (auto) {
        if (!timer) timer = setTimeout(apply, 1000);
        return;
      }
      var n = notice();
      if (!n) return;
      n.querySelector("[data-live-count]").textContent = String(count);
      n.hidden = false;
    });
    document.addEventListener("click", function (ev) {
      if (ev.target.closest("[data-live-apply]")) apply();
    });
  }

  document.addEventListener("htmx:afterSettle", function (ev) {
    if (clock) clock.process(ev.target.parentNode || document);
    regroup();
  });
  document.addEventListener("smiledash:zone", regroup);
  regroup();
  liveEvents();
  liveTimeline();
  liveRegions();
  connect();
})();
