"use strict";
/* A visitor's ticket status: people ahead and estimated wait, then "Silakan menuju loket 5";
   refreshed on every event of the ticket's service, and every 30 s in any case. */

const CONFIG = readJson("config");
const $ = (id) => document.getElementById(id);
let ticket = CONFIG.ticket;
let timer = null;

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
      schedule(); // only what can change this ticket's place: phones are many
    }
  },
});
render();
setInterval(refresh, 30000);
link.start();
