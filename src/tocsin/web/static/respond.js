// Responding fast, on top of plain forms that work without it.
//
// Keyboard shortcuts: a form marked data-shortcut="a" is submitted through its own
// button when "a" is pressed, exactly as a click would (so htmx sends it, and a button
// that asks first still asks). Keys typed into a field, or with a modifier, are left
// alone: "r" in the resolution note is a letter, Ctrl+R reloads.
//
// "Select all" on the incident list ticks every row's checkbox of the bulk form; it is
// shown only when this script runs, since without it the box would do nothing.
"use strict";

document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.repeat) return;
  if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
  const target = event.target;
  if (target instanceof Element && (target.isContentEditable
      || target.closest("input, textarea, select, [contenteditable]"))) return;
  if (!/^[a-z]$/.test(event.key)) return;
  const form = document.querySelector(`form[data-shortcut="${event.key}"]`);
  if (!form) return;
  event.preventDefault();
  // A second press before the answer would post again and read as a lost race ("already
  // acknowledged" by oneself); the page that answers has a fresh form.
  if (form.dataset.sent) return;
  form.dataset.sent = "true";
  form.requestSubmit(form.querySelector("button[type=submit]"));
});

// A request that failed (the network, a server away) leaves the form on the page: its key
// works again.
document.addEventListener("htmx:afterRequest", (event) => {
  if (event.target instanceof HTMLFormElement) delete event.target.dataset.sent;
});

function showSelectAll(root) {
  for (const box of root.querySelectorAll("input[data-select-all]")) {
    box.closest("label").hidden = false;
  }
}

document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement)) return;
  const formId = box.dataset.selectAll;
  if (formId) {
    const form = document.getElementById(formId);
    for (const row of form.elements) {
      if (row.name === "incident_id" && row.type === "checkbox") row.checked = box.checked;
    }
  } else if (box.name === "incident_id" && box.form) {
    // Unticking one row unticks "select all"; ticking the last one ticks it.
    const all = box.form.querySelector("input[data-select-all]");
    const rows = [...box.form.elements].filter((el) => el.name === "incident_id" && el.type === "checkbox");
    if (all) all.checked = rows.every((el) => el.checked);
  }
});

document.addEventListener("DOMContentLoaded", () => showSelectAll(document));
document.addEventListener("htmx:afterSettle", () => showSelectAll(document));
// The list replaced by a live update (static/live.js) comes with the box hidden again.
document.addEventListener("tocsin:swapped", (event) => showSelectAll(event.target));
