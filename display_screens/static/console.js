"use strict";
/* Officer console: buttons and keyboard shortcuts for the counter actions, the current ticket
   with its served time, and the waiting lists — live from the WebSocket. Every press carries a
   request_id; the same press repeated within REPEAT_MS (a double click), or after a press whose
   answer never came (a retry), reuses it, so the server acts once and never calls two people.
   The keys are the one officer layout (protocol/officer_keys.py, also the terminal client's),
   sent by the server in CONFIG.keys as key name → action; none is written here. */

const CONFIG = readJson("config");
const N = CONFIG.counter;
const REPEAT_MS = 1500;
const SKIPPED_SHOWN = 8;
const $ = (id) => document.getElementById(id);
const state = {
  status: "idle", ticket: null, reason: null, waiting: {}, skipped: [], closed: new Set(),
  busy: false, lastPress: null, unsettled: null, listsTimer: null, typed: "", dropped: null,
};
/* a browser's KeyboardEvent.key → the layout's key name (Textual's names) */
const KEY_NAMES = {
  Enter: "enter", " ": "space", Escape: "escape", Backspace: "backspace", "+": "plus",
  "-": "minus", "*": "asterisk", "/": "slash", ".": "full_stop",
};
/* a layout action → the console button (named by its wire action) that does it */
const BUTTONS = { call_next: "call-next" };

/* ------------------------------------------------------------------ rendering */

function render() {
  const ticket = state.ticket;
  setText($("current-code"), ticket ? ticket.code : "—");
  setText($("current-service"), ticket ? `${ticket.service} · ${CONFIG.names[ticket.service] || ""}` : (
    state.status === "paused" ? `${t("console.status_paused")}${state.reason ? " · " + state.reason : ""}` : t("console.none")));
  setText($("current-calls"), ticket && ticket.calls ? t("console.call_count", { n: ticket.calls }) : "");
  $("current-priority").hidden = !(ticket && ticket.priority);
  const status = $("status");
  status.className = `c-status ${state.status}`;
  setText(status, { idle: t("console.status_idle"), serving: t("console.status_serving"),
    paused: t("console.status_paused") }[state.status] || state.status);
  const enabled = {
    "call-next": state.status !== "paused",
    recall: !!ticket, skip: !!ticket, done: !!ticket, transfer: !!ticket,
    pause: state.status !== "serving", restore: state.skipped.length > 0,
  };
  for (const button of document.querySelectorAll("[data-action]")) {
    button.disabled = state.busy || !enabled[button.dataset.action];
  }
  const pauseLabel = document.querySelector("[data-action=pause] .c-btn-label");
  if (pauseLabel) setText(pauseLabel, state.status === "paused" ? t("action.resume") : t("action.pause"));
  for (const button of document.querySelectorAll("#dlg-transfer [data-service]")) {
    const code = button.dataset.service;
    button.hidden = (!!ticket && code === ticket.service) || state.closed.has(code);
  }
  for (const group of document.querySelectorAll("#dlg-transfer .c-group")) {
    group.hidden = !group.querySelector("[data-service]:not([hidden])");
  }
  for (const button of document.querySelectorAll("#waiting button, #skipped button")) {
    button.disabled = state.busy || state.status === "paused";
  }
  tick();
}

function renderCounts() {
  const box = $("counts");
  box.replaceChildren();
  for (const code of CONFIG.services) {
    const chip = el("div", "c-count");
    chip.title = CONFIG.names[code] || code;
    chip.append(el("b", null, code), el("span", "num", String(state.waiting[code] || 0)));
    box.append(chip);
  }
}

function renderWaiting(tickets) {
  const list = $("waiting");
  list.replaceChildren();
  for (const ticket of tickets.slice(0, 40)) {
    const row = el("li");
    row.dataset.ticket = ticket.code;
    const issued = Date.parse(ticket.issued_at);
    row.append(
      el("b", "num", ticket.code),
      el("span", "c-w-name", CONFIG.names[ticket.service] || ticket.service),
      el("span", "c-w-time num", Number.isNaN(issued) ? "" : SiteTime.clock(new Date(issued))),
    );
    if (ticket.priority) row.append(el("span", "c-badge", t("page.priority")));
    const call = el("button", "c-btn small", t("console.call_this"));
    call.type = "button";
    call.dataset.call = ticket.code;
    row.append(call);
    list.append(row);
  }
  $("waiting-empty").hidden = tickets.length > 0;
  render();
}

function renderSkipped(tickets) {
  state.skipped = tickets.slice(0, SKIPPED_SHOWN).map((ticket) => ticket.code);
  const list = $("skipped");
  list.replaceChildren();
  for (const ticket of tickets.slice(0, SKIPPED_SHOWN)) {
    const row = el("li");
    row.dataset.ticket = ticket.code;
    const restore = el("button", "c-btn small", t("action.restore"));
    restore.type = "button";
    restore.dataset.restore = ticket.code;
    const at = Number(ticket.skipped_ms);
    row.append(el("b", "num", ticket.code),
      el("span", "c-w-name", Number.isNaN(at) ? "" : SiteTime.clock(new Date(at))), restore);
    list.append(row);
  }
  $("skipped-empty").hidden = tickets.length > 0;
  render();
}

function tick() {
  const now = SiteTime.now();
  setText($("clock"), SiteTime.clock(now));
  const ticket = state.ticket;
  const since = ticket ? Date.parse(ticket.called_at) : NaN;
  if (Number.isNaN(since)) {
    setText($("current-timer"), "");
    return;
  }
  const seconds = Math.max(0, Math.floor((now - since) / 1000));
  const mm = String(Math.floor(seconds / 60)).padStart(2, "0");
  const ss = String(seconds % 60).padStart(2, "0");
  setText($("current-timer"), `${t("console.served_for")} ${mm}:${ss}`);
}

function notice(text, bad) {
  const node = $("notice");
  setText(node, text);
  node.classList.toggle("bad", !!bad);
}

/* ------------------------------------------------------------------ actions */

async function press(action, body) {
  if (state.busy) return;
  state.dropped = null;
  try {
    await send(action, body);
  } finally {
    if (state.dropped) {
      const said = $("notice").textContent;
      const dropped = t("console.key_dropped", { label: state.dropped });
      notice(said && said !== dropped ? `${said} ${dropped}` : dropped, true);
      state.dropped = null;
    }
  }
}

async function send(action, body) {
  const key = action + JSON.stringify(body || {});
  const now = performance.now();
  const repeat = state.lastPress && state.lastPress.key === key && now - state.lastPress.at < REPEAT_MS;
  const retry = state.unsettled && state.unsettled.key === key;
  const rid = retry ? state.unsettled.rid : repeat ? state.lastPress.rid : requestId();
  state.lastPress = { key, rid, at: now };
  state.busy = true;
  render();
  let result;
  try {
    result = await postJson(`/counter/${N}/actions/${action}`, { ...(body || {}), request_id: rid },
      { "X-CSRF-Token": CONFIG.csrf });
  } catch (err) {
    state.unsettled = { key, rid }; // it may have happened: a retry must be the same request
    state.busy = false;
    render();
    notice(t("page.error.network"), true);
    return;
  }
  state.unsettled = null;
  state.busy = false;
  if (result.status === 401) {
    location.reload();
    return;
  }
  if (!result.ok) {
    render();
    notice(errorText(result), true);
    return;
  }
  applyAnswer(action, result.data, body || {});
  render();
  scheduleLists();
}

function applyAnswer(action, data, body) {
  if (action === "call-next" || action === "call") {
    if (!data.ticket) {
      notice(t("console.nobody_waiting"), false);
      return;
    }
    state.status = "serving";
    state.ticket = { ...data.ticket, called_at: data.ticket.called_at || SiteTime.now().toISOString() };
    notice(t("console.called_ticket", { code: data.ticket.code }), false);
  } else if (action === "recall") {
    if (state.ticket) state.ticket.calls = data.ticket.calls;
    notice("", false);
  } else if (action === "skip" || action === "done" || action === "transfer") {
    setIdle();
    notice("", false);
  } else if (action === "pause") {
    state.status = "paused";
    state.reason = body.reason || null;
  } else if (action === "resume") {
    state.status = "idle";
    state.reason = null;
  }
}

function setIdle() {
  state.status = "idle";
  state.ticket = null;
}

/* Open a dialog with its choices numbered 1, 2, … (the digits pick them, as in the terminal). */
function openDialog(id) {
  const dialog = $(id);
  if (dialog.open) return;
  state.typed = "";
  choices(dialog).forEach((button, i) => {
    const kbd = button.querySelector("kbd");
    if (kbd) setText(kbd, String(i + 1));
  });
  dialog.showModal();
}

function choices(dialog) {
  return Array.from(dialog.querySelectorAll("[data-choice]")).filter((b) => !b.closest("[hidden]") && !b.hidden);
}

/* A digit in a dialog: with up to nine choices it picks one; with more, digits move to the
   choice of that number ("1", "2" → 12) and Enter picks it. */
function pickByDigit(dialog, digit) {
  const list = choices(dialog);
  state.typed = state.typed.slice(-1) + digit;
  if (!(Number(state.typed) >= 1 && Number(state.typed) <= list.length)) state.typed = digit;
  const n = Number(state.typed);
  if (!(n >= 1 && n <= list.length)) return;
  if (list.length <= 9) list[n - 1].click();
  else list[n - 1].focus();
}

/* The transfer targets: the services open now (as the terminal client offers them), read when
   the dialog opens; if that fails, every service. */
async function openTransfer() {
  try {
    const response = await fetch("/api/services", { cache: "no-store" });
    if (response.ok) {
      const services = (await response.json()).services || [];
      state.closed = new Set(services.filter((s) => !s.open).map((s) => s.code));
    }
  } catch (err) {
    /* offline: the live link shows the banner; the press itself will say so */
  }
  render();
  openDialog("dlg-transfer");
}

function openRestore() {
  const list = $("restore-list");
  list.replaceChildren();
  for (const code of state.skipped) {
    const button = el("button", "c-btn", code);
    button.type = "button";
    button.dataset.restore = code;
    button.dataset.choice = "";
    button.append(el("kbd"));
    list.append(button);
  }
  openDialog("dlg-restore");
}

function closeDialogs() {
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
}

/* A button's action (named as on the wire: call-next, recall, …). */
function startAction(action) {
  if (action === "done") openDialog("dlg-done");
  else if (action === "transfer") openTransfer();
  else if (action === "pause") {
    if (state.status === "paused") press("resume");
    else openDialog("dlg-pause");
  } else if (action === "restore") openRestore();
  else press(action);
}

function pause(reason) {
  closeDialogs();
  press("pause", { reason });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button || button.disabled) return;
  const d = button.dataset;
  if (!button.closest("dialog")) button.blur(); // Enter and Space are keys of the layout, not of a focused button
  if (d.action) startAction(d.action);
  else if (d.outcome) {
    closeDialogs();
    press("done", { outcome: d.outcome });
  } else if (d.service) {
    closeDialogs();
    press("transfer", { service: d.service });
  } else if (d.reason) pause(d.reason);
  else if (d.call) press("call", { ticket: d.call });
  else if (d.restore) {
    closeDialogs();
    press("restore", { ticket: d.restore });
  }
  else if ("close" in d) closeDialogs();
});

$("pause-other").addEventListener("submit", (event) => {
  event.preventDefault();
  const reason = $("pause-text").value.trim();
  if (reason) pause(reason);
});

/* The layout's keys act only on the console itself: in a text field they type, in a dialog
   the digits pick a choice, Enter the focused one, Escape closes it (the dialog's own). */
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.altKey || event.metaKey || event.target.matches("input, textarea, select")) return;
  const dialog = document.querySelector("dialog[open]");
  if (dialog) {
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      pickByDigit(dialog, event.key);
    }
    return;
  }
  const name = KEY_NAMES[event.key] || (event.key.length === 1 ? event.key.toLowerCase() : "");
  const action = CONFIG.keys[name];
  if (!action || action === "cancel") return;
  event.preventDefault();
  if (document.activeElement instanceof HTMLButtonElement) document.activeElement.blur();
  const button = document.querySelector(`[data-action="${BUTTONS[action] || action}"]`);
  if (button && state.busy) {
    /* refused, not queued (as in the terminal client), but never unseen: said now, and again
       with the answer of the press still out, which would otherwise cover it */
    state.dropped = button.querySelector(".c-btn-label").textContent;
    notice(t("console.key_dropped", { label: state.dropped }), true);
  } else if (button && !button.disabled) startAction(button.dataset.action);
  else if (button && !state.busy) notice(whyNot(button.dataset.action), true);
});

/* Why a key's button is off now (the terminal client says the same). */
function whyNot(action) {
  if (action === "restore") return t("console.skipped_empty");
  if (action === "pause" && state.ticket) return t("error.ticket_in_progress");
  if (state.status === "paused") return t("console.status_paused");
  return state.ticket ? "" : t("console.none");
}

/* ------------------------------------------------------------------ live */

async function fetchTickets(kind) {
  const response = await fetch(`/counter/${N}/tickets/${kind}`, { cache: "no-store", credentials: "same-origin" });
  if (response.status === 401) location.reload();
  return response.ok ? (await response.json()).tickets : null;
}

async function refreshLists() {
  state.listsTimer = null;
  try {
    const [waiting, skipped] = await Promise.all([fetchTickets("waiting"), fetchTickets("skipped")]);
    if (waiting) renderWaiting(waiting);
    if (skipped) renderSkipped(skipped);
  } catch (err) {
    /* the live link shows the banner; the next event refreshes */
  }
}

function scheduleLists() {
  if (state.listsTimer === null) state.listsTimer = setTimeout(refreshLists, 150);
}

function onMessage(msg) {
  if (msg.type === "snapshot") {
    SiteTime.setZone(msg.site.timezone);
    SiteTime.observe(msg.now);
    const me = msg.counters.find((c) => c.number === N);
    if (me) {
      state.status = me.status;
      state.reason = me.reason;
      state.ticket = me.ticket;
    }
    state.waiting = { ...msg.waiting };
    renderCounts();
    render();
    scheduleLists();
    return;
  }
  if (msg.type === "heartbeat") {
    SiteTime.observe(msg.at);
    return;
  }
  if (msg.waiting) {
    Object.assign(state.waiting, msg.waiting);
    renderCounts();
  }
  if (msg.counter === N) {
    if (msg.type === "call") {
      state.status = "serving";
      state.ticket = { code: msg.ticket, service: msg.service, priority: msg.priority, called_at: msg.at, calls: 1 };
    } else if (msg.type === "recall" && state.ticket && state.ticket.code === msg.ticket) {
      state.ticket.calls = msg.calls;
    } else if (["done", "skip", "transfer"].includes(msg.type) && state.ticket && state.ticket.code === msg.ticket) {
      setIdle();
    } else if (msg.type === "pause") {
      state.status = "paused";
      state.reason = msg.reason;
    } else if (msg.type === "resume") {
      state.status = "idle";
      state.reason = null;
    }
    render();
  }
  scheduleLists();
}

const link = new LiveLink({ query: { services: CONFIG.services.join(",") }, onMessage });
setInterval(tick, 1000);
setInterval(scheduleLists, 60000); // restorable no-shows expire with the grace window
renderCounts();
render();
link.start();
