// A Copy button beside every block of ready-to-paste configuration (pre.copyable). Without
// JavaScript, or where the clipboard is refused (plain http), the text stays selectable
// and a click on the block selects all of it.
"use strict";

function selectAll(block) {
  const range = document.createRange();
  range.selectNodeContents(block);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

function addButtons(root) {
  for (const block of root.querySelectorAll("pre.copyable")) {
    if (block.dataset.copyReady) continue;
    block.dataset.copyReady = "yes";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(block.textContent);
        button.textContent = "Copied";
      } catch {
        selectAll(block);
        button.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
    block.addEventListener("click", () => selectAll(block));
    block.after(button);
  }
}

document.addEventListener("DOMContentLoaded", () => addButtons(document));
document.addEventListener("htmx:afterSwap", (event) => addButtons(event.target));
