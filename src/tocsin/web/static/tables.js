// On a phone, a table is shown as one card per row (tocsin.css): each cell is labelled
// with its column's heading, so a row still reads "Status: triggered".
"use strict";

const labelTables = (root) => {
  for (const table of root.querySelectorAll("table")) {
    const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!headings.length) continue;
    for (const row of table.querySelectorAll("tbody tr")) {
      [...row.children].forEach((cell, index) => {
        if (headings[index] && !cell.dataset.label) cell.dataset.label = headings[index];
      });
    }
  }
};

document.addEventListener("DOMContentLoaded", () => labelTables(document));
// A part of the page replaced by live.js is labelled again.
document.addEventListener("tocsin:swapped", (event) => labelTables(event.target));
