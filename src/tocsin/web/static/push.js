// "Enable push on this device" on Profile → Notifications: registers the service
// worker, asks the browser for a push subscription to tocsin's VAPID key, and posts it.
"use strict";

function keyBytes(base64url) {
  const padded = (base64url + "===".slice((base64url.length + 3) % 4))
    .replace(/-/g, "+")
    .replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

async function enablePush(button) {
  const status = document.getElementById("push-status");
  const say = (text) => { status.textContent = text; };
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    say("This browser cannot receive push notifications here. On an iPhone, add tocsin to the Home Screen first and open it from there.");
    return;
  }
  button.disabled = true;
  try {
    if ((await Notification.requestPermission()) !== "granted") {
      say("Notifications are blocked for tocsin in this browser's settings.");
      return;
    }
    const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    await navigator.serviceWorker.ready;
    const key = (await (await fetch("/push/key")).json()).public_key;
    const subscription = await registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: keyBytes(key),
    });
    const json = subscription.toJSON();
    const form = new URLSearchParams({
      endpoint: json.endpoint,
      p256dh: json.keys.p256dh,
      auth: json.keys.auth,
      csrf_token: button.dataset.csrf,
    });
    const response = await fetch("/push/subscriptions", { method: "POST", body: form });
    if (!response.ok) {
      say("tocsin refused this subscription: " + ((await response.json()).detail || response.status));
      return;
    }
    say("Push is on for " + (await response.json()).label + ".");
    window.location.reload();
  } catch (error) {
    say("Push could not be enabled: " + error.message);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("enable-push");
  if (button) button.addEventListener("click", () => enablePush(button));
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/" });
});
