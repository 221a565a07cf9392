// One clock for the dashboard: every <time> is shown in one zone, the
// browser's or UTC, named on the page, switched with the top bar's button and
// remembered (localStorage); the full timestamp in both zones is on hover.
// Filters send their zone (tz) so typed times mean what the page shows. Also
// the copy buttons of ids and raw bodies, and the custom time-range fields.
// Loaded with defer before live.js, which uses window.smiledashClock.
(function () {
  "use strict";
  var KEY = "smiledash-tz";

  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch (e) { return "UTC"; }
  }
  function zone() {
    var v = null;
    try { v = localStorage.getItem(KEY); } catch (e) { /* private mode */ }
    return v === "utc" ? "UTC" : browserZone();
  }

  var formats = {};
  function parts(ms, tz) {
    var f = formats[tz] || (formats[tz] = new Intl.DateTimeFormat("en-CA", {
      timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23"
    }));
    var o = {};
    f.formatToParts(new Date(ms)).forEach(function (p) { o[p.type] = p.value; });
    return o;
  }
  function text(ms, tz) {
    var p = parts(ms, tz);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second;
  }
  function dayKey(ms) {
    var p = parts(ms, zone());
    return p.year + "-" + p.month + "-" + p.day;
  }
  function dayLabel(ms) {
    return new Date(ms).toLocaleDateString(undefined, {
      timeZone: zone(), weekday: "short", day: "numeric", month: "short", year: "numeric"
    });
  }
  // formValue writes a time for <input type="datetime-local"> in the zone.
  function formValue(ms) {
    var p = parts(ms, zone());
    return p.year + "-" + p.month + "-" + p.day + "T" + p.hour + ":" + p.minute;
  }

  // process shows the times, zone names, copy buttons and range fields of root.
  function process(root) {
    root = root || document;
    var tz = zone();
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("datetime"));
      if (isNaN(ms)) return;
      if (el.hasAttribute("data-local")) el.textContent = text(ms, tz);
      el.title = text(ms, tz) + " " + tz + (tz === "UTC" ? "" : " · " + text(ms, "UTC") + " UTC");
      el.setAttribute("data-zone", tz);
    });
    root.querySelectorAll("[data-tz-name]").forEach(function (el) { el.textContent = tz; });
    root.querySelectorAll("input[data-tz-input]").forEach(function (el) { el.value = tz; });
    root.querySelectorAll("input[data-utc]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("data-utc"));
      if (!isNaN(ms)) el.value = formValue(ms);
    });
    root.querySelectorAll("button.copy[hidden]").forEach(function (b) { b.hidden = false; });
    root.querySelectorAll("select[data-range]").forEach(showCustom);
  }

  function showCustom(select) {
    var custom = select.value === "custom";
    (select.form || document).querySelectorAll("[data-range-custom]").forEach(function (el) { el.hidden = !custom; });
  }
  document.addEventListener("change", function (ev) {
    if (ev.target.matches && ev.target.matches("select[data-range]")) showCustom(ev.target);
  });

  function toggleButton() {
    var theme = document.querySelector("[data-theme-toggle]");
    if (!theme) return null;
    var b = document.createElement("button");
    b.type = "button";
    b.className = "secondary";
    b.setAttribute("data-tz-toggle", "");
    b.setAttribute("data-testid", "tz-toggle");
    theme.parentNode.insertBefore(b, theme);
    return b;
  }
  function label(b) {
    var tz = zone();
    b.textContent = "Times: " + tz;
    b.title = tz === "UTC" ? "Show times in your browser's zone (" + browserZone() + ")" : "Show times in UTC";
  }
  var button = toggleButton();
  if (button) {
    label(button);
    button.addEventListener("click", function () {
      try { localStorage.setItem(KEY, zone() === "UTC" ? "local" : "utc"); } catch (e) { /* private mode */ }
      label(button);
      process(document);
      document.dispatchEvent(new CustomEvent("smiledash:zone"));
    });
  }

  function copyText(t) {
    var fallback = function () {
      var area = document.createElement("textarea");
      area.value = t;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
      area.remove();
    };
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(t).catch(fallback);
    }
    fallback();
    return Promise.resolve();
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-copy-text], button[data-copy-from]");
    if (!b) return;
    var t = b.getAttribute("data-copy-text");
    if (t === null) {
      var block = b.closest(".raw-block"), src = block && block.querySelector("[data-raw]");
      t = src ? src.textContent : "";
    }
    copyText(t).then(function () {
      var was = b.getAttribute("data-label") || b.textContent;
      b.setAttribute("data-label", was);
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = was; }, 1500);
    });
  });

  window.smiledashClock = { zone: zone, dayKey: dayKey, dayLabel: dayLabel, process: process };
  process(document);
})();
