// Every destructive form (one with a confirm_question field, its button of class
// "danger") asks before it is sent: a slip of the thumb on a phone must not delete a
// service or remove someone from a team. The question is asked in a <dialog> here; the
// form is then sent with confirmed=yes. Without JavaScript the server asks instead, on a
// page of its own (web/confirmation.py), so the same form works either way.
"use strict";

function confirmedField(form) {
  return form.querySelector('input[name="confirmed"]');
}

function ask(question, label) {
  return new Promise((resolve) => {
    const dialog = document.createElement("dialog");
    dialog.className = "confirm";
    dialog.setAttribute("aria-label", "Are you sure?");
    const text = document.createElement("p");
    text.textContent = question;
    const yes = document.createElement("button");
    yes.type = "button";
    yes.className = "danger";
    yes.textContent = label;
    const no = document.createElement("button");
    no.type = "button";
    no.className = "secondary";
    no.textContent = "Cancel";
    const buttons = document.createElement("p");
    buttons.className = "dialog-buttons";
    buttons.append(yes, no);
    dialog.append(text, buttons);
    document.body.append(dialog);
    const close = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener("click", () => close(true));
    no.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      close(false);
    });
    dialog.showModal();
    no.focus(); // the safe answer is the one Enter gives
  });
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  const question = form.querySelector('input[name="confirm_question"]');
  if (!question || confirmedField(form)) return;
  event.preventDefault();
  const button = event.submitter;
  const label = (button && button.textContent.trim()) || "Go ahead";
  if (!(await ask(question.value, label))) return;
  const confirmed = document.createElement("input");
  confirmed.type = "hidden";
  confirmed.name = "confirmed";
  confirmed.value = "yes";
  form.append(confirmed);
  form.requestSubmit(button && button.form === form ? button : undefined);
});
