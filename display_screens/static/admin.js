"use strict";
/* The office dashboard: on every event (and every 30 s) the live part — today's figures, the
   tenant rows and the counters — comes again from /admin/langsung and is swapped in; tenant rows
   the reader opened stay open. The range's counter productivity comes from /admin/produktivitas
   once the page has painted. */

const live = document.getElementById("live");
let timer = null;

async function refresh() {
  timer = null;
  try {
    const response = await fetch("/admin/langsung", { cache: "no-store" });
    if (!response.ok) return;
    const html = await response.text();
    const open = new Set([...live.querySelectorAll("details[open]")].map((d) => d.dataset.tenant));
    live.innerHTML = html;
    for (const row of live.querySelectorAll("details[data-tenant]")) {
      if (open.has(row.dataset.tenant)) row.open = true;
    }
  } catch (err) {
    /* offline: the banner says so; the next event or the timer tries again */
  }
}

function schedule() {
  if (timer === null) timer = setTimeout(refresh, 250);
}

const link = new LiveLink({ onMessage: (msg) => { if (msg.type !== "heartbeat") schedule(); } });
setInterval(schedule, 30000);
link.start();

const productivity = document.getElementById("productivity-table");
if (productivity) {
  fetch(productivity.dataset.src, { cache: "no-store" })
    .then((response) => (response.ok ? response.text() : null))
    .then((html) => { if (html !== null) productivity.innerHTML = html; })
    .catch(() => { /* offline: the note stays */ });
}
