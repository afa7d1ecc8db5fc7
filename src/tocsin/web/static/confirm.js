// Every destructive button (class "danger") asks before its form is sent: a slip of the
// thumb on a phone must not delete a service or remove someone from a team. The question
// is the button's data-confirm, or its label with what it cannot take back.
"use strict";

document.addEventListener("submit", (event) => {
  const button = event.submitter;
  if (!button || !button.classList.contains("danger")) return;
  const what = button.getAttribute("aria-label") || button.textContent.trim();
  const question = button.dataset.confirm || `${what}? This cannot be undone.`;
  if (!window.confirm(question)) event.preventDefault();
});
