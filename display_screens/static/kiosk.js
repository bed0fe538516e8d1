"use strict";
/* Ticket kiosk. Step 1: priority first (Umum or a priority category), big buttons. Step 2: the
   most asked-for documents as big buttons (one open service takes its ticket at once, several
   are offered as a short list), a search over service names, agencies and keywords with an
   on-screen keyboard (keyboard.js), and the agencies' tiles, each opening its services. Then
   the ticket, shown large and printed (by this browser, or by the server's ESC/POS printer, whose failures
   are shown with a reprint button). Untouched for a while, the kiosk goes back to step 1.
   A press that cannot reach the server is retried with the same request_id: a retry never
   takes a second ticket. */

const CONFIG = readJson("config");
const $ = (id) => document.getElementById(id);
const kiosk = { priority: "", pending: null, ticket: null, idleTimer: null, retry: null, screen: null };
const SERVICES = CONFIG.services;
const OPEN = new Map(); /* code → open now, kept by refreshServices */

/* Lower case without accents or punctuation: "KTP-el" and "ktp el" read the same. */
function fold(text) {
  return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/[^a-z0-9]+/g, " ").trim();
}

for (const service of SERVICES) {
  const words = [service.name, service.tenant_name, service.code, ...service.keywords];
  service.haystack = fold(words.join(" ")).split(" ");
  /* the words run together from each word's start: "ktpel" finds "KTP-el", "ktp" not "SKTP" */
  service.runs = service.haystack.map((_, i) => service.haystack.slice(i).join(""));
  service.keys = service.keywords.map(fold);
}

function firstStep() {
  return $("screen-priority") || $("screen-home");
}

function show(screen) {
  for (const node of document.querySelectorAll(".k-screen")) node.hidden = node !== screen;
  kiosk.screen = screen;
  armIdle();
  window.scrollTo(0, 0);
}

/* Back to step 1 after a while untouched (sooner than that once a ticket is shown). */
function armIdle() {
  clearTimeout(kiosk.idleTimer);
  const screen = kiosk.screen;
  if (!screen || screen === firstStep()) return;
  const wait = screen.id === "screen-ticket" ? CONFIG.ticket_ms : CONFIG.idle_ms;
  kiosk.idleTimer = setTimeout(home, wait);
}

function home() {
  hideMessage();
  setPriority("");
  $("query").value = "";
  show(firstStep());
}

function setPriority(id) {
  kiosk.priority = id;
  const chip = $("chosen");
  if (chip) {
    setText(chip, id ? t("kiosk.priority_chip", { name: CONFIG.priorities[id] }) : t("kiosk.general"));
    chip.classList.toggle("priority", Boolean(id));
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
    const priority = kiosk.pending.priority;
    kiosk.pending = null;
    showTicket(result.data, priority);
    return;
  }
  kiosk.pending = null;
  message(errorText(result));
  if (result.data && result.data.error && result.data.error.code === "service_closed") {
    refreshServices();
  }
}

function showTicket(ticket, priority) {
  kiosk.ticket = ticket;
  setText($("pt-code"), ticket.code);
  setText($("pt-priority"), priority ? t("kiosk.priority_chip", { name: CONFIG.priorities[priority] }) : "");
  setText($("pt-service"), ticket.service_name);
  setText($("pt-agency"), ticket.tenant_name || "");
  setText($("pt-counters"), ticket.counters_text || "");
  setText($("pt-floor"), ticket.where || "");
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
  const screen = $("screen-ticket");
  screen.dataset.ticket = ticket.code;
  screen.dataset.priority = priority || "";
  show(screen);
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

/* A popular document: its one open service takes the ticket at once; otherwise its list
   (several open to choose from, or none open, each with the reason). */
function popular(button) {
  const codes = button.dataset.services.split(",");
  const open = codes.filter((code) => OPEN.get(code));
  if (open.length === 1) take(open[0]);
  else show(document.querySelector(`.k-services[data-popular="${CSS.escape(button.dataset.popular)}"]`));
}

/* ---- search ---- */

function matches(service, tokens, squashed) {
  if (!tokens.length) return 0;
  const all = tokens.every((token) => service.haystack.some((word) => word.startsWith(token)));
  if (!all && !(squashed.length > 2 && service.runs.some((run) => run.startsWith(squashed)))) return 0;
  /* rank: a keyword or the name starting with the query first, open before closed */
  const query = tokens.join(" ");
  let score = 1;
  if (service.keys.some((key) => key === query || key.startsWith(query))) score += 4;
  if (fold(service.name).startsWith(query)) score += 2;
  if (OPEN.get(service.code)) score += 8;
  return score;
}

function resultLimit() {
  return window.innerHeight > window.innerWidth ? 8 : 6;
}

function search() {
  const text = fold($("query").value);
  const tokens = text ? text.split(" ") : [];
  const squashed = tokens.join("");
  const found = SERVICES.map((service, i) => ({ service, i, score: matches(service, tokens, squashed) }))
    .filter((hit) => hit.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i);
  const list = $("results");
  list.textContent = "";
  const shown = found.slice(0, resultLimit());
  for (const { service } of shown) {
    const original = document.querySelector(`.k-service[data-service="${CSS.escape(service.code)}"]`);
    const button = original.cloneNode(true);
    button.classList.add("k-result");
    list.append(button);
  }
  let note = "";
  if (!tokens.length) note = t("kiosk.search_start");
  else if (!found.length) note = t("kiosk.search_empty");
  else if (found.length > shown.length) note = t("kiosk.search_more", { n: found.length - shown.length });
  setText($("results-note"), note);
}

/* ---- live state ---- */

function closedReason(service, hours) {
  return service.has_hours ? t("kiosk.closed_hours", { hours }) : t("kiosk.closed_now");
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
  const known = new Map(SERVICES.map((service) => [service.code, service]));
  for (const service of data.services) {
    OPEN.set(service.code, service.open);
    const mine = known.get(service.code);
    for (const button of document.querySelectorAll(`.k-service[data-service="${CSS.escape(service.code)}"]`)) {
      button.disabled = !service.open;
      setText(button.querySelector(".k-wait"), service.open ? t("kiosk.waiting", { n: service.waiting }) : "");
      if (mine) setText(button.querySelector(".k-reason"), service.open ? "" : closedReason(mine, service.hours));
    }
    open.set(service.tenant, (open.get(service.tenant) || 0) + (service.open ? 1 : 0));
  }
  for (const tile of document.querySelectorAll(".k-tenant")) {
    const n = open.get(tile.dataset.tenant) || 0;
    tile.classList.toggle("closed", n === 0);
    setText(tile.querySelector(".k-tenant-meta"), n ? t("kiosk.services", { n }) : t("kiosk.all_closed"));
  }
  for (const button of document.querySelectorAll(".k-pop")) {
    button.classList.toggle("closed", !button.dataset.services.split(",").some((code) => OPEN.get(code)));
  }
}

function tick() {
  const now = SiteTime.now();
  setText($("clock"), SiteTime.clock(now));
  setText($("date"), SiteTime.longDate(now));
}

/* Grid columns that fit the tiles and buttons in the screen's shape (no scrolling). */
function layout() {
  const portrait = window.innerHeight > window.innerWidth;
  const tenants = document.querySelector(".k-tenants");
  const n = Number(tenants.dataset.count) || 1;
  const cols = portrait ? Math.min(4, Math.ceil(Math.sqrt(n / 1.5))) : Math.min(6, Math.ceil(Math.sqrt(n)));
  tenants.style.setProperty("--cols", String(Math.max(1, Math.min(n, cols))));
  tenants.style.setProperty("--rows", String(Math.ceil(n / Math.max(1, Math.min(n, cols)))));
  const pops = document.querySelector(".k-popular");
  if (pops) {
    const p = Number(pops.dataset.count) || 1;
    const pc = portrait ? Math.min(p, 4) : Math.min(p, 2);
    pops.style.setProperty("--cols", String(pc));
    pops.style.setProperty("--rows", String(Math.ceil(p / pc)));
  }
  tenants.classList.toggle("few", n <= 8); /* a small site: fewer, bigger tiles */
  document.body.classList.toggle("portrait", portrait);
}

document.addEventListener("click", (event) => {
  armIdle();
  const target = event.target.closest("button");
  if (!target) return;
  if (target.classList.contains("k-prio")) {
    setPriority(target.dataset.priority);
    show($("screen-home"));
  } else if (target.classList.contains("k-tenant")) {
    show(document.querySelector(`.k-services[data-tenant="${CSS.escape(target.dataset.tenant)}"]`));
  } else if (target.classList.contains("k-pop")) {
    popular(target);
  } else if (target.id === "open-search") {
    show($("screen-search"));
    search();
    $("query").focus();
  } else if (target.classList.contains("k-back")) {
    if (target.dataset.to === "priority") home();
    else show($("screen-home"));
  } else if (target.classList.contains("k-service")) {
    take(target.dataset.service);
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
document.addEventListener("keydown", armIdle);
$("query").addEventListener("input", search);
new OnScreenKeyboard($("keyboard"), [$("query")]); /* keyboard.js: its keys fire "input" */
document.addEventListener("contextmenu", (event) => event.preventDefault());
window.addEventListener("resize", layout);

const link = new LiveLink({ onMessage: (msg) => {
  if (msg.type === "snapshot") {
    SiteTime.setZone(msg.site.timezone);
    SiteTime.observe(msg.now);
  } else if (msg.type === "heartbeat") {
    SiteTime.observe(msg.at);
  }
  for (const [code, n] of Object.entries(msg.waiting || {})) {
    for (const node of document.querySelectorAll(`.k-service:not(:disabled) [data-waiting="${CSS.escape(code)}"]`)) {
      setText(node, t("kiosk.waiting", { n }));
    }
  }
}, onOnline: refreshServices });
for (const button of document.querySelectorAll("#screen-home .k-service, .k-services .k-service")) {
  OPEN.set(button.dataset.service, !button.disabled);
}
setPriority("");
layout();
show(firstStep());
setInterval(tick, 1000);
setInterval(refreshServices, 60000);
tick();
link.start();
