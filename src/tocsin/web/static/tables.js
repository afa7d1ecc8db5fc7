// On a phone, a table is shown as one card per row (tocsin.css): each cell is labelled
// with its column's heading, so a row still reads "Status: triggered". Again after htmx
// swaps a part of the page in (a button on the incident list answers with a new list).
"use strict";

function labelCells(root) {
  for (const table of root.querySelectorAll("table")) {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!headings.length) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, index) => {
        if (headings[index] && !cell.dataset.label) cell.dataset.label = headings[index];
      });
    }
  }
}

document.addEventListener("DOMContentLoaded", () => labelCells(document));
document.addEventListener("htmx:afterSettle", () => labelCells(document));
// A part of the page replaced by live.js is labelled again.
document.addEventListener("tocsin:swapped", (event) => labelCells(event.target));
