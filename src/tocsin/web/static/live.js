// Live pages: one EventSource per tab on /events. Each event names an incident that
// changed; the parts of this page that show it (elements with data-live: "incidents" for
// any incident, "incident:<id>" for one) are re-fetched from this page's own URL and
// swapped in place, so what appears is exactly what a reload would show. The open-incident
// count in the nav and the tab title follows changes to the viewer's teams' incidents.
// Without JavaScript the pages are the same, only not live.
"use strict";

(() => {
  const body = document.body;
  if (!body || !body.dataset.liveEvents || !window.EventSource) return;

  let refreshing = false;
  let again = false;
  let counting = false;
  let countAgain = false;
  let opened = false;

  // A region holding a form the viewer is typing in is left alone (their words must not
  // vanish under them); it is brought up to date on the next change once they are done.
  const typing = (field) =>
    !["hidden", "checkbox", "radio"].includes(field.type) && field.value !== field.defaultValue;
  const busy = (region) =>
    (region.contains(document.activeElement) &&
      document.activeElement.matches("input, textarea, select")) ||
    [...region.querySelectorAll("input, textarea")].some(typing);

  const setCount = (open) => {
    const badge = document.getElementById("open-count");
    if (badge) {
      badge.textContent = String(open);
      badge.hidden = open === 0;
    }
    const title = document.title.replace(/^\(\d+\) /, "");
    document.title = open > 0 ? `(${open}) ${title}` : title;
  };

  // One re-fetch at a time; changes arriving meanwhile make one more afterwards, so a
  // storm of changes costs two fetches, not one per change.
  const refresh = async () => {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (!response.ok || response.redirected) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const region of document.querySelectorAll("[data-live]")) {
        const replacement = region.id && fresh.getElementById(region.id);
        if (!replacement || busy(region)) continue;
        const checked = [...region.querySelectorAll("input[type=checkbox]:checked")]
          .map((box) => `${box.name}=${box.value}`);
        const adopted = document.importNode(replacement, true);
        for (const box of adopted.querySelectorAll("input[type=checkbox]")) {
          if (checked.includes(`${box.name}=${box.value}`)) box.checked = true;
        }
        region.replaceWith(adopted);
        if (window.htmx) window.htmx.process(adopted);
        adopted.dispatchEvent(new CustomEvent("tocsin:swapped", { bubbles: true }));
      }
      const badge = fresh.getElementById("open-count");
      if (badge) setCount(Number(badge.textContent) || 0);
      body.dispatchEvent(new CustomEvent("tocsin:live-refreshed", { bubbles: true }));
    } catch (error) {
      // The next change or reconnection tries again.
    } finally {
      refreshing = false;
      if (again) { again = false; refresh(); }
    }
  };

  const recount = async () => {
    if (counting) { countAgain = true; return; }
    counting = true;
    try {
      const response = await fetch("/live/open-count", { credentials: "same-origin" });
      if (response.ok && !response.redirected) setCount((await response.json()).open);
    } catch (error) {
      // As above.
    } finally {
      counting = false;
      if (countAgain) { countAgain = false; recount(); }
    }
  };

  const shows = (incident) =>
    [...document.querySelectorAll("[data-live]")].some(
      (region) => region.dataset.live === "incidents" || region.dataset.live === `incident:${incident}`,
    );

  const source = new EventSource(body.dataset.liveEvents);
  source.addEventListener("open", () => {
    // After a reconnection, changes made while the stream was down were never heard.
    if (opened) { refresh(); recount(); }
    opened = true;
  });
  source.addEventListener("incident", (event) => {
    const change = JSON.parse(event.data);
    if (change.kind === "resync") {
      if (document.querySelector("[data-live]")) refresh();
      recount();
      return;
    }
    if (shows(change.incident)) refresh();
    else if (change.mine) recount();
  });
})();
