// tocsin's service worker: shows push notifications and acts on their buttons.
//
// A push carries JSON made by notify/channels/push/payload.py. Every notification about
// an incident has the same tag, so a later one (acknowledged elsewhere) replaces it.
// A button posts the delivery's one-time link (the same as the e-mail's) and shows what
// happened, without opening the app; a tap on the notification opens the incident.
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function showPush(data) {
  const actions = {};
  for (const action of data.actions || []) actions[action.action] = action.url;
  return self.registration.showNotification(data.title, {
    body: data.body,
    tag: data.tag,
    renotify: Boolean(data.renotify),
    silent: Boolean(data.silent),
    requireInteraction: Boolean(data.requireInteraction),
    icon: "/static/icon-192.png",
    badge: "/static/icon-192.png",
    data: { url: data.url, actions: actions },
    actions: (data.actions || []).map((a) => ({ action: a.action, title: a.title })),
  });
}

async function act(notification, action) {
  const url = notification.data.actions[action];
  let detail;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    detail = (await response.json()).detail;
  } catch (error) {
    detail = "tocsin could not be reached: open the incident to try again";
  }
  return self.registration.showNotification(notification.title, {
    body: detail,
    tag: notification.tag,
    silent: true,
    icon: "/static/icon-192.png",
    data: { url: notification.data.url, actions: {} },
  });
}

self.addEventListener("push", (event) => {
  if (!event.data) return;
  event.waitUntil(showPush(event.data.json()));
});

self.addEventListener("notificationclick", (event) => {
  const notification = event.notification;
  notification.close();
  const data = notification.data || {};
  if (event.action && data.actions && data.actions[event.action]) {
    event.waitUntil(act(notification, event.action));
  } else if (data.url) {
    event.waitUntil(self.clients.openWindow(data.url));
  }
});

// For the browser test, which cannot make a real push service deliver.
self.tocsin = { showPush, act };
