// Ferry console: the live regions of a page follow the server's watches.
//
// Hand-written rather than a client library: all it does is open one EventSource per live
// region and swap in the HTML the server rendered with the page's own template, so there is
// nothing to build, pin or update, and every page works without it (forms post, pages load).
"use strict";

(function () {
  // A form the user is editing is not replaced under their fingers: a region holding a
  // [data-keep-while-editing] form that changed waits, with a note, until it is submitted.
  function editing(region) {
    var forms = region.querySelectorAll("form[data-keep-while-editing]");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].dataset.dirty === "true") return forms[i];
    }
    return null;
  }

  function markDirty(region) {
    region.addEventListener("input", function (ev) {
      var form = ev.target.closest("form[data-keep-while-editing]");
      if (form) form.dataset.dirty = "true";
    });
    region.addEventListener("change", function (ev) {
      var form = ev.target.closest("form[data-keep-while-editing]");
      if (form) form.dataset.dirty = "true";
    });
  }

  function follow(region) {
    var url = region.dataset.live;
    if (!url || !window.EventSource) return;
    markDirty(region);
    // A click is a press and a release on the same element: an update between the two would
    // put a new button under the pointer and the click would be lost (a user clicking Stage
    // just as the plan's status changed saw nothing happen). Updates wait for the release.
    var pressed = false;
    var pending = null;
    region.addEventListener("pointerdown", function () { pressed = true; });
    function released() {
      if (!pressed) return;
      pressed = false;
      // After the click's own handlers (a submit, say) have run.
      setTimeout(function () {
        if (pending && !pressed) {
          var msg = pending;
          pending = null;
          apply(msg);
        }
      }, 0);
    }
    document.addEventListener("pointerup", released);
    document.addEventListener("pointercancel", released);
    // A release outside the window may never reach the page: leaving it ends the press too,
    // so that updates never stay held back.
    window.addEventListener("blur", released);
    var shown = null;
    var source = new EventSource(url);
    source.onmessage = function (ev) {
      var msg = JSON.parse(ev.data);
      if (pressed) {
        pending = msg;
        return;
      }
      apply(msg);
    };
    function apply(msg) {
      // The same HTML again changes nothing: leave the page's elements alone.
      if (msg.html === shown) return;
      var form = editing(region);
      if (form) {
        if (!form.querySelector(".stale")) {
          var note = document.createElement("p");
          note.className = "stale help";
          note.setAttribute("role", "status");
          note.textContent = "This changed on the server while you edited it; save or reload to see the news.";
          form.prepend(note);
        }
        return;
      }
      // Keep the keyboard focus where it was when the element survives the update.
      var focused = document.activeElement && document.activeElement.id;
      region.innerHTML = msg.html;
      shown = msg.html;
      region.dataset.updated = String(Date.now());
      if (focused) {
        var again = document.getElementById(focused);
        if (again) again.focus();
      }
      tick();
    }
    // EventSource reconnects by itself (the server sends retry: 1000).
  }

  // Running steps' clocks advance here, every second, without asking the server.
  function tick() {
    var clocks = document.querySelectorAll(".clock[data-started]");
    var now = Date.now();
    for (var i = 0; i < clocks.length; i++) {
      var s = Math.max(0, Math.round((now - Date.parse(clocks[i].dataset.started)) / 1000));
      var m = Math.floor(s / 60);
      var h = Math.floor(m / 60);
      clocks[i].textContent = (h ? h + "h" + (m % 60) + "m" : m ? m + "m" : "") + (s % 60) + "s";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var regions = document.querySelectorAll("[data-live]");
    for (var i = 0; i < regions.length; i++) follow(regions[i]);
    setInterval(tick, 1000);
  });
})();
