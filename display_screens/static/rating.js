"use strict";
/* The counter's survey tablet (/rating/{n}), facing the visitor: idle until the counter
   finishes a ticket, then "Bagaimana pelayanan kami?" with the survey (survey.js) for it; back
   to idle after idle_ms without a touch, or thanks_ms after the thank-you. A ticket offered
   once is not offered again. It learns of finished tickets from the counter's events and asks
   every poll_ms in any case. */

const CONFIG = readJson("config");
const idle = document.getElementById("idle");
const section = document.getElementById("survey");
const ticketLine = document.getElementById("rating-ticket");
const offered = new Set(); // `${day}/${code}`: offered once, never again
let current = null;
let resetTimer = null;
let checking = false;

const form = new SurveyForm(section.querySelector(".sv-body"), readJson("survey-data"), {
  submit: (answers, profile) => postJson(`/rating/${CONFIG.counter}/survey`,
    { ticket: current.code, answers, profile },
    { "X-CSRF-Token": CONFIG.csrf }),
  onActivity: () => {
    if (current !== null && ["question", "profile", "error"].includes(form.state)) arm(CONFIG.idle_ms);
  },
  onFinish: () => arm(CONFIG.thanks_ms),
});

function arm(ms) {
  clearTimeout(resetTimer);
  resetTimer = setTimeout(reset, ms);
}

function offer(ticket) {
  current = ticket;
  offered.add(`${ticket.day}/${ticket.code}`);
  setText(ticketLine, t("rating.ticket", { code: ticket.code }));
  idle.hidden = true;
  section.hidden = false;
  document.body.dataset.state = "survey";
  form.begin();
  arm(CONFIG.idle_ms);
}

function reset() {
  clearTimeout(resetTimer);
  current = null;
  section.hidden = true;
  idle.hidden = false;
  document.body.dataset.state = "idle";
  check();
}

async function check() {
  if (current !== null || checking) return;
  checking = true;
  try {
    const response = await fetch(`/rating/${CONFIG.counter}/survey`, { cache: "no-store", credentials: "same-origin" });
    if (response.status === 401) {
      location.reload(); // signed out (Akhiri semua sesi): back to the sign-in form
      return;
    }
    if (!response.ok) return;
    const data = await response.json();
    const ticket = data.ticket;
    if (ticket && current === null && !offered.has(`${ticket.day}/${ticket.code}`)) offer(ticket);
  } catch (err) {
    /* offline: the banner says so, the next event or poll asks again */
  } finally {
    checking = false;
  }
}

const link = new LiveLink({
  query: { services: CONFIG.services.join(",") },
  onMessage: (msg) => {
    if (msg.type === "snapshot") check();
    else if (msg.counter === CONFIG.counter && (msg.type === "done" || (msg.type === "call" && msg.completed))) check();
  },
});
document.body.dataset.state = "idle";
setInterval(check, CONFIG.poll_ms);
link.start();
check();
