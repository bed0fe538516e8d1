"use strict";
/* A visitor's ticket status: people ahead and estimated wait, where it is served (agency,
   counters, floor), then "Silakan menuju Loket 5"; refreshed on every event of the ticket's
   service, and every 30 s in any case. When the visitor is next, and when called (or called
   again), the phone beeps (Web Audio) and vibrates: browsers allow sound only after a tap, so
   the page offers a one-tap "Aktifkan suara". Each alert is recorded in window.statusAlerts. */

const CONFIG = readJson("config");
const $ = (id) => document.getElementById(id);
let ticket = CONFIG.ticket;
let timer = null;
const alerts = { audio: null, last: null, fired: [] };
window.statusAlerts = alerts.fired;

/* What the visitor should be told of now: next in line, or called at a counter. */
function alertKey(state) {
  if (state.status === "called") return `called:${state.counter}`;
  if (state.status === "waiting" && state.ahead === 0) return "next";
  return null;
}

function beep(context, kind) {
  const tones = kind === "next" ? [660, 880] : [880, 660, 880];
  let at = context.currentTime + 0.02;
  for (const hz of tones) {
    const osc = context.createOscillator();
    const gain = context.createGain();
    osc.frequency.value = hz;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(0.4, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.28);
    osc.connect(gain).connect(context.destination);
    osc.start(at);
    osc.stop(at + 0.3);
    at += 0.32;
  }
}

function fire(kind) {
  const record = { kind, sound: false, vibrate: false, at: Date.now() };
  const context = alerts.audio;
  if (context && context.state === "running") {
    beep(context, kind);
    record.sound = true;
  }
  if (navigator.vibrate) {
    record.vibrate = Boolean(navigator.vibrate(kind === "next" ? [200, 100, 200] : [400, 150, 400, 150, 400]));
  }
  alerts.fired.push(record);
}

/* Alert once per change into "next" or into a call at a counter; not for the state the page
   opened with (the visitor is looking at it). */
function checkAlert(initial) {
  const key = alertKey(ticket);
  if (key !== alerts.last && key !== null && !initial) fire(key === "next" ? "next" : "called");
  alerts.last = key;
}

function enableSound() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (Context && !alerts.audio) alerts.audio = new Context();
  if (alerts.audio) alerts.audio.resume().then(() => beep(alerts.audio, "next")).catch(() => {});
  if (navigator.vibrate) navigator.vibrate(60);
  $("sound-on").hidden = true;
  $("sound-ready").hidden = false;
}

function render() {
  const card = $("card");
  card.className = `s-card ${ticket.status}`;
  let headline = "";
  let detail = "";
  if (ticket.status === "waiting") {
    headline = ticket.ahead > 0 ? t("ticket.people_ahead", { n: ticket.ahead }) : t("ticket.nobody_ahead");
    detail = ticket.estimate_min > 0 ? t("ticket.estimate", { n: ticket.estimate_min }) : t("ticket.estimate_soon");
    if (ticket.origin && ticket.origin !== ticket.service) {
      detail += ` · ${t("status.transferred", { service: ticket.service_name })}`;
    }
  } else if (ticket.status === "called") {
    headline = t("status.called", { counter: ticket.counter });
    detail = ticket.counter_name || "";
  } else if (ticket.status === "served") {
    headline = t("status.served");
  } else if (ticket.status === "no_show") {
    headline = t("status.no_show");
  }
  setText($("headline"), headline);
  setText($("detail"), detail);
  setText($("service"), ticket.service_name);
  setText($("agency"), ticket.tenant_name || "");
  setText($("counters"), ticket.counters_text || "");
  setText($("where"), ticket.where || "");
  $("sound").hidden = !["waiting", "called"].includes(ticket.status);
  const issued = Date.parse(ticket.issued_at);
  if (!Number.isNaN(issued)) {
    const when = new Date(issued);
    setText($("issued"), `${SiteTime.longDate(when)} · ${t("status.issued", { time: SiteTime.clock(when) })}`);
  }
  document.dispatchEvent(new CustomEvent("ticket", { detail: ticket })); // survey.js follows it
}

async function refresh() {
  timer = null;
  try {
    const response = await fetch(`${ticket.status_url}/status`, { cache: "no-store" });
    if (!response.ok) return;
    const next = await response.json();
    const moved = next.service !== ticket.service;
    ticket = next;
    render();
    checkAlert(false);
    if (moved) {
      link.query = { services: ticket.service };
      link.reset();
    }
  } catch (err) {
    /* offline: the banner says so, the next event or the 30 s timer tries again */
  }
}

function schedule() {
  if (timer === null) timer = setTimeout(refresh, 200);
}

const link = new LiveLink({
  query: { services: ticket.service },
  onMessage: (msg) => {
    if (msg.type === "snapshot") {
      SiteTime.setZone(msg.site.timezone);
      SiteTime.observe(msg.now);
      schedule();
    } else if (["call", "transfer", "restore"].includes(msg.type) || msg.ticket === ticket.code
               || (msg.type === "ticket" && msg.priority)) {
      if (msg.type === "recall" && msg.ticket === ticket.code) fire("called"); // called again
      schedule(); // only what can change this ticket's place: phones are many
    }
  },
});
render();
checkAlert(true);
$("sound-on").addEventListener("click", enableSound);
setInterval(refresh, 30000);
link.start();
