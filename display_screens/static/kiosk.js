"use strict";
/* Ticket kiosk: tenant → service → ticket shown large and printed (by this browser, or by the
   server's ESC/POS printer, whose failures are shown with a reprint button). A press that
   cannot reach the server is retried with the same request_id: a retry never takes a second
   ticket. */

const CONFIG = readJson("config");
const IDLE_MS = 30000;
const TICKET_MS = 20000;
const $ = (id) => document.getElementById(id);
const kiosk = { priority: "", pending: null, ticket: null, idleTimer: null, retry: null };

function show(screen) {
  for (const node of document.querySelectorAll(".k-screen")) node.hidden = node !== screen;
  const prio = $("priority");
  if (prio) prio.hidden = !screen.classList.contains("k-services");
  clearTimeout(kiosk.idleTimer);
  if (screen.id !== "screen-tenants") {
    kiosk.idleTimer = setTimeout(home, screen.id === "screen-ticket" ? TICKET_MS : IDLE_MS);
  }
  window.scrollTo(0, 0);
}

function home() {
  hideMessage();
  setPriority("");
  show($("screen-tenants"));
}

function setPriority(id) {
  kiosk.priority = id;
  for (const button of document.querySelectorAll(".k-prio")) {
    button.classList.toggle("selected", button.dataset.priority === id);
  }
}

/* A full-screen message; `retry`, when given, is what the retry button does. */
function message(text, retry, retryLabel) {
  kiosk.retry = retry || null;
  setText($("message-text"), text);
  setText($("message-retry"), retryLabel || t("kiosk.retry"));
  $("message-retry").hidden = !retry;
  $("message").hidden = false;
}

function hideMessage() {
  $("message").hidden = true;
}

async function take(service) {
  if (!kiosk.pending || kiosk.pending.service !== service || kiosk.pending.priority !== kiosk.priority) {
    kiosk.pending = { service, priority: kiosk.priority, request_id: requestId() };
  }
  const body = { service, request_id: kiosk.pending.request_id };
  if (kiosk.pending.priority) body.priority = kiosk.pending.priority;
  $("busy").hidden = false;
  let result;
  try {
    result = await postJson("/kiosk/tickets", body);
  } catch (err) {
    $("busy").hidden = true;
    message(t("page.error.network"), () => take(kiosk.pending.service));
    return;
  }
  $("busy").hidden = true;
  if (result.status === 201) {
    kiosk.pending = null;
    showTicket(result.data);
    return;
  }
  kiosk.pending = null;
  message(errorText(result));
  if (result.data && result.data.error && result.data.error.code === "service_closed") {
    refreshServices();
  }
}

function showTicket(ticket) {
  kiosk.ticket = ticket;
  setText($("pt-code"), ticket.code);
  setText($("pt-service"), ticket.service_name);
  setText($("pt-ahead"), ticket.ahead > 0 ? t("ticket.people_ahead", { n: ticket.ahead }) : t("ticket.nobody_ahead"));
  setText($("pt-estimate"), ticket.estimate_min > 0 ? t("ticket.estimate", { n: ticket.estimate_min }) : t("ticket.estimate_soon"));
  const issued = new Date(Date.parse(ticket.issued_at));
  setText($("pt-when"), `${SiteTime.longDate(issued)} ${SiteTime.clock(issued)}`);
  const qr = $("pt-qr");
  const printed = new Promise((resolve) => {
    qr.onload = resolve;
    qr.onerror = resolve;
  });
  qr.src = ticket.qr_url;
  $("screen-ticket").dataset.ticket = ticket.code;
  show($("screen-ticket"));
  if (CONFIG.server_printer) {
    if (ticket.printed === false) printFailed();
  } else if (CONFIG.print) {
    printed.then(() => window.print());
  }
}

function printFailed() {
  message(t("kiosk.print_failed", { code: kiosk.ticket.code }), reprint, t("kiosk.print_again"));
}

async function reprint() {
  const ticket = kiosk.ticket;
  if (!CONFIG.server_printer) {
    window.print();
    return;
  }
  $("busy").hidden = false;
  let result;
  try {
    result = await postJson(ticket.print_url, {});
  } catch (err) {
    result = null;
  }
  $("busy").hidden = true;
  if (!result || !result.ok) message(result ? errorText(result) : t("page.error.network"));
  else if (!result.data.printed) printFailed();
  else show($("screen-ticket"));
}

async function refreshServices() {
  let data;
  try {
    const response = await fetch("/api/services", { cache: "no-store" });
    if (!response.ok) return;
    data = await response.json();
  } catch (err) {
    return;
  }
  const open = new Map();
  for (const service of data.services) {
    const button = document.querySelector(`.k-service[data-service="${CSS.escape(service.code)}"]`);
    if (!button) continue;
    button.disabled = !service.open;
    setText(button.querySelector(".k-hours"), service.hours);
    setText(button.querySelector(".k-wait"), service.open ? t("kiosk.waiting", { n: service.waiting }) : "");
    open.set(service.tenant, (open.get(service.tenant) || 0) + (service.open ? 1 : 0));
  }
  for (const tile of document.querySelectorAll(".k-tenant")) {
    const n = open.get(tile.dataset.tenant) || 0;
    tile.classList.toggle("closed", n === 0);
    setText(tile.querySelector(".k-tenant-meta"), n ? t("kiosk.services", { n }) : t("kiosk.all_closed"));
  }
}

function tick() {
  const now = SiteTime.now();
  setText($("clock"), SiteTime.clock(now));
  setText($("date"), SiteTime.longDate(now));
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (!target) return;
  if (target.classList.contains("k-tenant")) {
    show(document.querySelector(`.k-services[data-tenant="${CSS.escape(target.dataset.tenant)}"]`));
  } else if (target.classList.contains("k-back")) {
    home();
  } else if (target.classList.contains("k-service")) {
    take(target.dataset.service);
  } else if (target.classList.contains("k-prio")) {
    setPriority(target.dataset.priority);
  } else if (target.id === "reprint") {
    reprint();
  } else if (target.id === "finish") {
    home();
  } else if (target.id === "message-retry") {
    const retry = kiosk.retry;
    hideMessage();
    if (retry) retry();
  } else if (target.id === "message-close") {
    hideMessage();
  }
});
document.addEventListener("contextmenu", (event) => event.preventDefault());

const link = new LiveLink({ onMessage: (msg) => {
  if (msg.type === "snapshot") {
    SiteTime.setZone(msg.site.timezone);
    SiteTime.observe(msg.now);
  } else if (msg.type === "heartbeat") {
    SiteTime.observe(msg.at);
  }
  for (const [code, n] of Object.entries(msg.waiting || {})) {
    const node = document.querySelector(`.k-service:not(:disabled) [data-waiting="${CSS.escape(code)}"]`);
    if (node) setText(node, t("kiosk.waiting", { n }));
  }
}, onOnline: refreshServices });
setInterval(tick, 1000);
setInterval(refreshServices, 60000);
tick();
link.start();
