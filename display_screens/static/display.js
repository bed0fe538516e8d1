"use strict";
/* Lobby TV: the now-calling card (every call shown in turn for at least hold_ms, with chime and
   announcement, never overlapping), the counters grid, recent calls, waiting per service, the
   clock and the running text — all kept current from the live link. */

const CONFIG = readJson("config");
const RECENT_SHOWN = 5;
const RECENT_KEPT = 20;
const QUEUE_MAX = 60;
const FRESH_MS = 6000;
const BLINK_STEPS = 10;
const CHIME_NOTES = [[659.25, 0.45], [523.25, 0.8]]; // [Hz, seconds]: E5 then C5, as audio/chime.py
const CHIME_OVERTONES = [[1, 1.0], [2, 0.35], [3, 0.12]]; // [multiple, weight]
const CHIME_LEVEL = 0.45;

const $ = (id) => document.getElementById(id);
const view = {
  counters: new Map(), // number -> {data, node, code, fresh}
  services: new Map(), // code -> service from the snapshot
  chips: new Map(), // code -> {node, n}
  recent: [],
  recentRows: [],
  day: null,
  resetDay: null,
  ticker: null,
};

/* The id this TV reports its plays under: ?screen=, else its ?profile= (both as the site's
   config or the office declared them), else one kept in this browser (unknown to the server
   until the office registers it). */
function screenId() {
  if (CONFIG.screen) return CONFIG.screen;
  if (CONFIG.query.profile) return CONFIG.query.profile;
  try {
    let id = localStorage.getItem("antrian-layar");
    if (!id) {
      id = "layar-" + requestId().slice(0, 8);
      localStorage.setItem("antrian-layar", id);
    }
    return id;
  } catch (err) {
    return "layar";
  }
}

/* ------------------------------------------------------------------ sound */

class Announcer {
  constructor(muted) {
    this.ctx = null;
    this.overlay = $("sound-overlay");
    if (muted) return;
    try {
      this.ctx = new AudioContext();
    } catch (err) {
      return;
    }
    this.ctx.onstatechange = () => this.showOverlay();
    this.ctx.resume().catch(() => {});
    setTimeout(() => this.showOverlay(), 800);
    const unlock = () => this.ctx.resume().then(() => this.showOverlay()).catch(() => {});
    this.overlay.addEventListener("click", unlock);
    document.addEventListener("keydown", unlock);
  }

  showOverlay() {
    this.overlay.hidden = !this.ctx || this.ctx.state === "running";
  }

  get ready() {
    return this.ctx !== null && this.ctx.state === "running";
  }

  /* The server's announcement WAV (chime and speech), or this page's own chime when the
     server has none for the call. True when something played. */
  async announce(call) {
    if (!this.ready) return false;
    const buffer = await this.fetchSpeech(call.event_id);
    await (buffer ? this.play(buffer) : this.chime());
    return true;
  }

  /* The server's chime (audio/chime.py) when it has no WAV: the same notes, lengths and
     overtones, each note a decaying bell tone. */
  chime() {
    const ctx = this.ctx;
    let start = ctx.currentTime + 0.05;
    const total = CHIME_OVERTONES.reduce((sum, [, weight]) => sum + weight, 0);
    let last = null;
    for (const [freq, seconds] of CHIME_NOTES) {
      for (const [mult, weight] of CHIME_OVERTONES) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.frequency.value = freq * mult;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime((CHIME_LEVEL * weight) / total, start + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + seconds);
        osc.connect(gain).connect(ctx.destination);
        osc.start(start);
        osc.stop(start + seconds);
        last = osc;
      }
      start += seconds;
    }
    return new Promise((resolve) => {
      last.onended = resolve;
      setTimeout(resolve, 2000);
    });
  }

  async fetchSpeech(eventId) {
    try {
      const response = await fetch(`/audio/calls/${encodeURIComponent(eventId)}.wav`, {
        cache: "no-store", signal: AbortSignal.timeout(4000),
      });
      const type = response.headers.get("content-type") || "";
      if (!response.ok || !type.includes("audio")) return null;
      return await this.ctx.decodeAudioData(await response.arrayBuffer());
    } catch (err) {
      return null;
    }
  }

  play(buffer) {
    return new Promise((resolve) => {
      const source = this.ctx.createBufferSource();
      source.buffer = buffer;
      source.connect(this.ctx.destination);
      source.onended = resolve;
      source.start();
      setTimeout(resolve, (buffer.duration + 1) * 1000);
    });
  }
}

/* ------------------------------------------------------------------ now-calling card */

const presenter = {
  queue: [],
  busy: false,
  shown: 0,
  since: 0,

  push(call) {
    if (this.queue.length >= QUEUE_MAX) this.queue.shift();
    this.queue.push(call);
    if (!this.busy) this.run();
  },

  async run() {
    this.busy = true;
    while (this.queue.length) {
      const call = this.queue.shift();
      if (!isFresh(call.at)) continue; // a long backlog: too old to announce, still in the list
      this.since = performance.now(); // when this call took the card
      showCard(call, true);
      this.shown += 1;
      try {
        if (await announcer.announce(call)) reportPlayed(call.event_id);
      } catch (err) {
        /* a sound that fails must not stop the card: the next call still shows */
      }
      const left = CONFIG.hold_ms - (performance.now() - this.since);
      if (left > 0) await sleep(left);
    }
    this.busy = false;
  },
};

/* Long codes ("ABC1234") get a smaller card font, without reading layout back. */
function fitCode(node, code) {
  node.style.fontSize = code.length > 5 ? `${(10.5 * 5) / code.length}rem` : "";
}

function showCard(call, blink) {
  const card = $("card");
  card.classList.remove("idle");
  const label = $("card-label");
  const alert = call.type === "recall" || !!call.priority;
  setText(label, call.type === "recall" ? t("display.recall")
    : call.priority ? t("display.priority_call") : t("display.now_calling"));
  label.classList.toggle("alert", alert);
  setText($("card-code"), call.ticket);
  setText($("card-go"), t("display.go_to"));
  setText($("card-counter"), `${t("page.counter")} ${call.counter}`);
  const service = view.services.get(call.service);
  setText($("card-tenant"), service ? service.tenant_name : "");
  setText($("card-service"), service ? service.name : call.service);
  fitCode($("card-code"), call.ticket);
  card.dataset.ticket = call.ticket;
  card.dataset.counter = String(call.counter);
  if (blink) startBlink(card);
}

/* Ten half-second flashes, by class toggles: no per-frame animation work on a weak TV box. */
let blinkTimer = null;
function startBlink(card) {
  clearInterval(blinkTimer);
  let left = BLINK_STEPS;
  card.classList.add("flash");
  blinkTimer = setInterval(() => {
    left -= 1;
    card.classList.toggle("flash", left > 0 && left % 2 === 0);
    if (left <= 0) clearInterval(blinkTimer);
  }, 500);
}

/* Played reports stop once the server says it does not know this screen: the TV still shows
   and plays every call. */
let reportsRefused = false;
function reportPlayed(eventId) {
  if (reportsRefused) return;
  const ack = { event_id: eventId, screen: SCREEN };
  if (!link.send({ type: "played", ...ack })) {
    postJson("/api/played", ack).then((result) => refusedReport(result.data && result.data.error))
      .catch(() => {});
  }
}

function refusedReport(error) {
  if (error && error.code === "unknown_screen") reportsRefused = true;
}

function isFresh(at) {
  const when = Date.parse(at);
  return !Number.isNaN(when) && SiteTime.now() - when < CONFIG.max_age_s * 1000;
}

/* ------------------------------------------------------------------ counters grid */

function buildGrid(counters) {
  const grid = $("grid");
  grid.replaceChildren();
  view.counters.clear();
  for (const counter of counters) {
    const node = el("div", "tile idle");
    node.dataset.counter = String(counter.number);
    const code = el("div", "tile-code", t("display.idle"));
    node.append(el("div", "tile-head", `${t("page.counter")} ${counter.number}`), code,
      el("div", "tile-name", shortName(counter)));
    grid.append(node);
    view.counters.set(counter.number, { data: counter, node, code, fresh: null });
  }
  layoutGrid();
}

function shortName(counter) {
  return (counter.name || "").replace(/^\s*loket\s*\d+\s*[–—:-]?\s*/i, "");
}

function layoutGrid() {
  const grid = $("grid");
  const n = view.counters.size || 1;
  const box = grid.getBoundingClientRect();
  let best = { cols: 1, rows: n, score: -1 };
  for (let cols = 1; cols <= n; cols += 1) {
    const rows = Math.ceil(n / cols);
    const score = Math.min(box.width / cols, (box.height / rows) * 1.7);
    if (score > best.score + 0.5) best = { cols, rows, score };
  }
  const gap = parseFloat(getComputedStyle(grid).rowGap) || 0;
  grid.style.setProperty("--cols", String(best.cols));
  grid.style.setProperty("--rows", String(best.rows));
  grid.style.setProperty("--tile-w", `${(box.width - gap * (best.cols - 1)) / best.cols}px`);
  grid.style.setProperty("--tile-h", `${(box.height - gap * (best.rows - 1)) / best.rows}px`);
}

function renderCounter(entry) {
  const { data, node, code } = entry;
  node.classList.toggle("idle", data.status === "idle" || (!data.ticket && data.status !== "paused"));
  node.classList.toggle("paused", data.status === "paused");
  if (data.status === "paused") setText(code, data.reason ? `${t("display.paused")} · ${data.reason}` : t("display.paused"));
  else setText(code, data.ticket ? data.ticket.code : t("display.idle"));
}

function updateCounter(number, changes) {
  const entry = view.counters.get(number);
  if (!entry) return null;
  Object.assign(entry.data, changes);
  renderCounter(entry);
  return entry;
}

function flashCounter(entry) {
  entry.node.classList.add("fresh");
  clearTimeout(entry.fresh);
  entry.fresh = setTimeout(() => entry.node.classList.remove("fresh"), FRESH_MS);
}

/* ------------------------------------------------------------------ recent and waiting */

function renderRecent() {
  const list = $("recent");
  if (!view.recentRows.length) {
    for (let i = 0; i < RECENT_SHOWN; i += 1) {
      const row = el("li");
      const code = el("span", "r-code");
      const counter = el("span", "r-counter");
      const time = el("span", "r-time");
      row.append(code, counter, time);
      row.hidden = true;
      list.append(row);
      view.recentRows.push({ row, code, counter, time });
    }
  }
  view.recentRows.forEach((slot, i) => {
    const call = view.recent[i];
    slot.row.hidden = !call;
    if (!call) return;
    setText(slot.code, call.ticket);
    setText(slot.counter, `→ ${t("page.counter")} ${call.counter}`);
    const at = Date.parse(call.at);
    setText(slot.time, Number.isNaN(at) ? "" : SiteTime.clock(new Date(at)));
  });
  $("recent-empty").hidden = view.recent.length > 0;
}

function addRecent(call) {
  view.recent.unshift({ ticket: call.ticket, service: call.service, counter: call.counter, at: call.at,
    event_id: call.event_id });
  if (view.recent.length > RECENT_KEPT) view.recent.length = RECENT_KEPT;
  renderRecent();
}

function buildWaiting(services) {
  const box = $("waiting");
  box.replaceChildren();
  view.chips.clear();
  for (const service of services) {
    const node = el("div", "chip none");
    node.title = service.name;
    node.dataset.service = service.code;
    const n = el("span", "chip-n", "0");
    node.append(el("span", "chip-code", service.code), n);
    box.append(node);
    view.chips.set(service.code, { node, n });
  }
}

function setWaiting(waiting) {
  for (const [code, count] of Object.entries(waiting || {})) {
    const chip = view.chips.get(code);
    if (!chip) continue;
    setText(chip.n, count);
    chip.node.classList.toggle("some", count > 0);
    chip.node.classList.toggle("none", count === 0);
  }
}

/* ------------------------------------------------------------------ clock and ticker */

function tick() {
  const now = SiteTime.now();
  setText($("date"), SiteTime.longDate(now));
  setText($("clock"), SiteTime.clock(now));
  const today = SiteTime.isoDay(now);
  if (view.day && today !== view.day && view.resetDay !== today) {
    view.resetDay = today; // a new day: fresh snapshot, the queues start again
    link.reset();
  }
}

function setTicker(texts) {
  const text = (texts || []).join("     •     ");
  if (text === view.ticker) return;
  view.ticker = text;
  const node = $("ticker");
  node.textContent = text;
  const remPx = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const seconds = Math.max(20, node.scrollWidth / (9 * remPx));
  node.style.setProperty("--ticker-s", `${seconds.toFixed(1)}s`);
  $("ticker").parentElement.parentElement.hidden = !text;
}

/* ------------------------------------------------------------------ messages */

function onSnapshot(snap) {
  SiteTime.setZone(snap.site.timezone);
  SiteTime.observe(snap.now);
  view.day = snap.day;
  view.services = new Map(snap.services.map((s) => [s.code, s]));
  const numbers = snap.counters.map((c) => c.number).join(",");
  if (numbers !== Array.from(view.counters.keys()).join(",")) buildGrid(snap.counters);
  for (const counter of snap.counters) updateCounter(counter.number, counter);
  const codes = snap.services.map((s) => s.code).join(",");
  if (codes !== Array.from(view.chips.keys()).join(",")) buildWaiting(snap.services);
  setWaiting(snap.waiting);
  view.recent = snap.recent.slice(0, RECENT_KEPT);
  renderRecent();
  setTicker(snap.running_text);
  layoutGrid();
  if (!presenter.busy && view.recent.length) {
    const last = view.recent[0];
    showCard({ ...last, type: "call" }, false);
  }
  tick();
}

function onMessage(msg) {
  switch (msg.type) {
    case "snapshot":
      onSnapshot(msg);
      return;
    case "heartbeat":
      SiteTime.observe(msg.at);
      return;
    case "ticket":
    case "restore":
      setWaiting(msg.waiting);
      return;
    case "call": {
      const entry = updateCounter(msg.counter, {
        status: "serving", reason: null,
        ticket: { code: msg.ticket, service: msg.service, priority: msg.priority, called_at: msg.at, calls: 1 },
      });
      setWaiting(msg.waiting);
      addRecent(msg);
      if (entry) flashCounter(entry);
      if (isFresh(msg.at)) presenter.push(msg);
      return;
    }
    case "recall": {
      const entry = view.counters.get(msg.counter);
      if (entry && entry.data.ticket) entry.data.ticket.calls = msg.calls;
      if (entry) flashCounter(entry);
      if (isFresh(msg.at)) presenter.push(msg);
      return;
    }
    case "done":
    case "skip":
    case "transfer": {
      const entry = view.counters.get(msg.counter);
      if (entry && entry.data.ticket && entry.data.ticket.code === msg.ticket) {
        updateCounter(msg.counter, { status: "idle", ticket: null });
      }
      if (msg.waiting) setWaiting(msg.waiting);
      return;
    }
    case "pause":
      updateCounter(msg.counter, { status: "paused", reason: msg.reason, ticket: null });
      return;
    case "resume":
      updateCounter(msg.counter, { status: "idle", reason: null });
      return;
    default:
  }
}

const SCREEN = screenId();
const announcer = new Announcer(CONFIG.mute);
/* After a reconnect (the server may have been upgraded) and every 15 minutes: a TV running an
   older page than the server has reloads itself, between calls. */
async function checkVersion() {
  try {
    const response = await fetch("/display/version", { cache: "no-store" });
    const { version } = await response.json();
    if (version && version !== CONFIG.version && !presenter.busy) location.reload();
  } catch (err) {
    /* offline: checked again on reconnect */
  }
}

const link = new LiveLink({
  query: CONFIG.query, onMessage, onOnline: checkVersion, onError: refusedReport,
  retryMaxMs: CONFIG.retry_max_ms, watchdogMs: CONFIG.watchdog_ms,
});
window.antrianDisplay = { view, presenter, link };
window.addEventListener("resize", layoutGrid);
setInterval(tick, 1000);
setInterval(checkVersion, 15 * 60 * 1000);
tick();
link.start();
