"use strict";
/* Lobby TV: the now-calling card (always the newest call whose counter still serves it), the
   announcements (chime and speech, never overlapping; a burst said as one announcement, a call
   whose counter has moved on never said), the counters grid, recent calls, waiting per service,
   the clock, the running text, notices when the hall is quiet and the prayer times — all kept
   current from the live link. */

const CONFIG = readJson("config");
const RECENT_SHOWN = 5;
const RECENT_KEPT = 20;
const QUEUE_MAX = 60;
const LOG_KEPT = 200;
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
  waitingPage: 0,
  day: null,
  resetDay: null,
  ticker: null,
  cardCall: null, // the call the card shows
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
  async announce(calls) {
    if (!this.ready) return false;
    const buffer = await this.fetchSpeech(calls.map((call) => call.event_id).join(","));
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

/* True while the call's counter still serves its ticket (a counter this TV does not show
   counts as serving it). */
function isCurrent(call) {
  const entry = view.counters.get(call.counter);
  if (!entry) return true;
  const { data } = entry;
  return data.status === "serving" && !!data.ticket && data.ticket.code === call.ticket;
}

/* The announcements: calls wait here while an earlier announcement plays. Each turn drops the
   calls too old or whose counter has moved on (reported with "dropped", so /admin does not call
   the TV silent), says up to merge_max of the rest as one announcement, and reports each one
   said as played. `log` (newest last) is what was said (or could not be: no sound) or dropped,
   with the last event this TV had taken when it chose them. */
const presenter = {
  queue: [],
  busy: false,
  log: [],

  push(call) {
    if (this.queue.length >= QUEUE_MAX) this.drop(this.queue.shift(), "overflow");
    this.queue.push(call);
    if (!this.busy) this.run();
  },

  async run() {
    this.busy = true;
    while (this.queue.length) {
      const { speak, also } = this.take();
      if (!speak.length) continue;
      const seen = link.lastId; // what this TV knew when it chose these calls
      let played = false;
      try {
        played = await announcer.announce(speak);
      } catch (err) {
        /* a sound that fails must not stop the next one */
      }
      this.note(played ? "said" : "not_played", speak, seen);
      if (played) [...speak, ...also].forEach((c) => reportPlayed(c.event_id));
    }
    this.busy = false;
  },

  take() {
    const keep = [];
    const also = [];
    for (const call of this.queue.splice(0)) {
      const why = !isFresh(call.at) ? "stale" : !isCurrent(call) ? "moved_on"
        : signage.quietFor() ? "salat" : null;
      if (why) this.drop(call, why);
      else if (keep.some((k) => k.counter === call.counter && k.ticket === call.ticket)) also.push(call);
      else keep.push(call);
    }
    const speak = keep.slice(0, CONFIG.merge_max);
    const later = keep.slice(CONFIG.merge_max);
    const inSpeak = (c) => speak.some((k) => k.counter === c.counter);
    this.queue.unshift(...later, ...also.filter((c) => !inSpeak(c)));
    return { speak, also: also.filter(inSpeak) };
  },

  drop(call, why) {
    this.note(why, [call]);
    reportPlayed(call.event_id, true);
  },

  note(what, calls, seen = link.lastId) {
    this.log.push({ what, seen, at: Date.now(),
      calls: calls.map((c) => ({ event_id: c.event_id, ticket: c.ticket, counter: c.counter })) });
    if (this.log.length > LOG_KEPT) this.log.splice(0, this.log.length - LOG_KEPT);
  },
};

/* The card shows the newest call whose counter still serves it (blinking when it is new), else
   the welcome. */
function refreshCard(fresh) {
  if (fresh) {
    view.cardCall = fresh;
    showCard(fresh, true);
    return;
  }
  if (view.cardCall && isCurrent(view.cardCall)) return;
  const newest = view.recent.find((call) => isCurrent(call));
  if (newest) {
    view.cardCall = { ...newest, type: "call" };
    showCard(view.cardCall, false);
  } else {
    view.cardCall = null;
    showIdle();
  }
}

function showIdle() {
  const card = $("card");
  card.classList.add("idle");
  clearInterval(blinkTimer);
  card.classList.remove("flash");
  const label = $("card-label");
  label.classList.remove("alert");
  setText(label, t("display.welcome"));
  setText($("card-go"), t("display.welcome_sub"));
  setText($("card-tenant"), "");
  setText($("card-service"), "");
  delete card.dataset.ticket;
  delete card.dataset.counter;
}

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
   and plays every call. `dropped`: handled without being said. */
let reportsRefused = false;
function reportPlayed(eventId, dropped) {
  if (reportsRefused) return;
  const ack = dropped ? { event_id: eventId, screen: SCREEN, dropped: true }
    : { event_id: eventId, screen: SCREEN };
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
    const name = el("div", "tile-name");
    name.append(el("span", null, shortName(counter)));
    node.append(el("div", "tile-head", `${t("page.counter")} ${counter.number}`), code, name);
    grid.append(node);
    view.counters.set(counter.number, { data: counter, node, code, fresh: null });
  }
  layoutGrid();
}

function shortName(counter) {
  return (counter.name || "").replace(/^\s*loket\s*\d+\s*[–—:-]?\s*/i, "");
}

/* Columns and rows that give the ticket codes the most room below the captions (2.4rem head,
   3.4rem for a two-line name), then the names narrowed where two lines are not enough. */
function layoutGrid() {
  const grid = $("grid");
  const n = view.counters.size || 1;
  const box = grid.getBoundingClientRect();
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const gap = parseFloat(getComputedStyle(grid).rowGap) || 0;
  // a few counters (a zone's TV) get tiles of a sensible size, not the whole panel each
  const maxW = 26 * rem;
  const maxH = 16 * rem;
  let best = { cols: 1, rows: n, score: -Infinity, w: 0, h: 0 };
  for (let cols = 1; cols <= n; cols += 1) {
    const rows = Math.ceil(n / cols);
    const w = Math.min(maxW, (box.width - gap * (cols - 1)) / cols);
    const h = Math.min(maxH, (box.height - gap * (rows - 1)) / rows);
    const score = Math.min(w * 0.22, (h - 5.8 * rem) * 0.85) + Math.min(0, w - 11 * rem);
    const level = Math.abs(score - best.score) <= 0.5;
    if (score > best.score + 0.5 || (level && rows < best.rows)) best = { cols, rows, score, w, h };
  }
  const capped = (size, max) => (size >= max - 0.5 ? `${max}px` : "minmax(0, 1fr)");
  grid.style.setProperty("--cols", String(best.cols));
  grid.style.setProperty("--rows", String(best.rows));
  grid.style.setProperty("--col-size", capped(best.w, maxW));
  grid.style.setProperty("--row-size", capped(best.h, maxH));
  grid.style.setProperty("--tile-w", `${best.w}px`);
  grid.style.setProperty("--tile-h", `${best.h}px`);
  for (const entry of view.counters.values()) fitName(entry.node.querySelector(".tile-name > span"));
  for (const chip of view.chips.values()) chip.fitted = false;
}

/* Where a long Indonesian word may break, as soft hyphens between its syllables: before the
   consonant of V-CV, between the consonants of VC-CV (ng, ny, kh, sy count as one), at least
   two letters on each side; words in capitals (BPJS, SKCK) stay whole. */
const SYLLABLE_UNIT = /ng|ny|kh|sy|./gi;
function hyphenate(text) {
  return text.replace(/[A-Za-z]{5,}/g, (word) => {
    if (word === word.toUpperCase()) return word;
    const units = word.match(SYLLABLE_UNIT);
    const vowel = units.map((u) => /^[aiueo]$/i.test(u));
    const cuts = new Set();
    for (let i = 0; i < units.length; i += 1) {
      if (!vowel[i]) continue;
      let j = i + 1;
      while (j < units.length && !vowel[j]) j += 1;
      if (j >= units.length || j === i + 1) continue;
      cuts.add(j - i === 2 ? i + 1 : i + 2); // V-CV, or VC-C..V
    }
    let out = "";
    let at = 0;
    units.forEach((unit, k) => {
      if (cuts.has(k) && at >= 2 && word.length - at >= 2) out += "\u00ad";
      out += unit;
      at += unit.length;
    });
    return out;
  });
}

/* A name that does not fit its box in full first breaks its long words between syllables
   (with a hyphen), then is narrowed: the condensed face, then squeezed sideways (its text
   wraps in a wider box shown at the box's width), never cut or shrunk below its font size. */
function fitName(span) {
  if (!span) return;
  const box = span.parentElement;
  if (span.dataset.whole === undefined) span.dataset.whole = span.textContent;
  span.textContent = span.dataset.whole;
  span.style.fontStretch = "";
  span.style.width = "";
  span.style.transform = "";
  const fits = () => span.scrollHeight <= box.clientHeight + 1 && span.scrollWidth <= span.clientWidth + 1;
  if (fits()) return;
  span.textContent = hyphenate(span.dataset.whole);
  if (fits()) return;
  span.style.fontStretch = "condensed";
  for (let k = 1; k >= 0.5 && !fits(); k -= 0.05) {
    span.style.width = `${100 / k}%`;
    span.style.transform = `scaleX(${k.toFixed(2)})`;
  }
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
    node.dataset.service = service.code;
    const n = el("span", "chip-n", "0");
    const name = el("span", "chip-name", service.name);
    node.append(el("span", "chip-code", service.code), name, n);
    box.append(node);
    view.chips.set(service.code, { node, n, name, count: 0 });
  }
  view.waitingPage = 0;
}

function setWaiting(waiting) {
  for (const [code, count] of Object.entries(waiting || {})) {
    const chip = view.chips.get(code);
    if (!chip) continue;
    chip.count = count;
    setText(chip.n, count);
    chip.node.title = t("display.waiting_people", { n: count });
    chip.node.classList.toggle("some", count > 0);
    chip.node.classList.toggle("none", count === 0);
  }
  pageWaiting(false);
}

/* The services with people waiting, as many as the panel holds; the next ones every few
   seconds. */
function pageWaiting(turn) {
  const list = $("waiting");
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const fit = Math.max(1, Math.floor((list.clientHeight + 0.5 * rem) / (4.7 * rem)));
  const some = Array.from(view.chips.values()).filter((chip) => chip.count > 0);
  $("waiting-empty").hidden = some.length > 0;
  const pages = Math.max(1, Math.ceil(some.length / fit));
  if (turn) view.waitingPage += 1;
  view.waitingPage %= pages;
  const shown = $("waiting-page"); // which page of how many, when the panel turns pages
  shown.hidden = pages < 2;
  setText(shown, pages < 2 ? "" : t("display.waiting_page", { page: view.waitingPage + 1, pages }));
  const first = view.waitingPage * fit;
  some.forEach((chip, i) => {
    chip.node.classList.toggle("off-page", i < first || i >= first + fit);
    if (!chip.fitted && i >= first && i < first + fit) {
      fitName(chip.name);
      chip.fitted = true;
    }
  });
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
    signage.load();
  }
  signage.tick();
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

/* ------------------------------------------------------------------ signage */

/* Notices (the folder's images and videos, the texts within their dates) over the left column
   once no call came for quiet_ms, hidden at the next call; the day's prayer times in the
   header; with pause on, no call is said from a prayer's time for pause_ms. */
const signage = {
  data: CONFIG.signage,
  lastCall: performance.now(),
  shown: false,
  index: -1,
  until: 0,

  async load() {
    try {
      const response = await fetch("/display/papan", { cache: "no-store" });
      if (response.ok) this.data = await response.json();
    } catch (err) {
      return; /* offline: the last one stays */
    }
    this.renderPrayer();
  },

  items() {
    const d = this.data;
    return d ? [...d.media.map((m) => ({ ...m })), ...d.texts.map((text) => ({ kind: "text", text }))] : [];
  },

  renderPrayer() {
    const box = $("prayer");
    const prayer = this.data && this.data.prayer;
    box.hidden = !prayer;
    if (!prayer) return;
    box.replaceChildren(...prayer.times.map((p) => {
      const row = el("li", "prayer");
      row.dataset.prayer = p.id;
      row.append(el("span", "prayer-name", p.name), el("span", "prayer-at", p.at));
      return row;
    }));
  },

  /* The prayer whose pause is now (announcements not said), else null. */
  quietFor() {
    const prayer = this.data && this.data.prayer;
    if (!prayer || !prayer.pause) return null;
    const now = SiteTime.now().getTime();
    return prayer.times.find((p) => now >= p.ms && now < p.ms + prayer.pause_ms) || null;
  },

  call() {
    this.lastCall = performance.now();
    this.hide();
  },

  tick() {
    const prayer = this.data && this.data.prayer;
    if (prayer) {
      const now = SiteTime.now().getTime();
      const next = prayer.times.find((p) => p.ms > now);
      const quiet = this.quietFor();
      const note = $("card-note");
      note.hidden = !quiet;
      setText(note, quiet ? t("display.salat_quiet", { name: quiet.name }) : "");
      for (const row of $("prayer").children) {
        row.classList.toggle("next", !!next && row.dataset.prayer === next.id);
        row.classList.toggle("now", !!quiet && row.dataset.prayer === quiet.id);
      }
    }
    const items = this.items();
    const quietHall = this.data && performance.now() - this.lastCall >= this.data.quiet_ms;
    if (!quietHall || !items.length) {
      this.hide();
      return;
    }
    if (!this.shown || performance.now() >= this.until) this.next(items);
  },

  next(items) {
    this.index = (this.index + 1) % items.length;
    const item = items[this.index];
    const box = $("notice");
    let node;
    if (item.kind === "image") {
      node = el("img", "notice-media");
      node.src = item.url;
      node.alt = "";
    } else if (item.kind === "video") {
      node = el("video", "notice-media");
      node.src = item.url;
      node.muted = true;
      node.autoplay = true;
      node.playsInline = true;
      node.addEventListener("ended", () => { this.until = 0; });
    } else {
      node = el("p", "notice-text", item.text);
    }
    box.replaceChildren(node);
    this.until = performance.now() + (item.kind === "video" ? 5 * 60000 : this.data.slide_ms);
    if (!this.shown) {
      this.shown = true;
      $("notices").hidden = false;
      document.body.classList.add("quiet");
    }
  },

  hide() {
    if (!this.shown) return;
    this.shown = false;
    $("notices").hidden = true;
    $("notice").replaceChildren();
    document.body.classList.remove("quiet");
  },
};

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
  pageWaiting(false);
  view.cardCall = null;
  refreshCard(null);
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
      refreshCard(msg);
      if (isFresh(msg.at)) presenter.push(msg); // a replayed backlog is shown, not said
      signage.call();
      return;
    }
    case "recall": {
      const entry = view.counters.get(msg.counter);
      if (entry && entry.data.ticket) entry.data.ticket.calls = msg.calls;
      if (entry) flashCounter(entry);
      refreshCard(msg);
      if (isFresh(msg.at)) presenter.push(msg);
      signage.call();
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
      refreshCard(null);
      return;
    }
    case "pause":
      updateCounter(msg.counter, { status: "paused", reason: msg.reason, ticket: null });
      refreshCard(null);
      return;
    case "resume":
      updateCounter(msg.counter, { status: "idle", reason: null });
      refreshCard(null);
      return;
    case "settings": /* the office changed the running text or the notices: no reload */
      setTicker(msg.running_text);
      signage.load();
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
window.antrianDisplay = { view, presenter, link, signage };
window.addEventListener("resize", layoutGrid);
setInterval(tick, 1000);
setInterval(checkVersion, 15 * 60 * 1000);
setInterval(() => signage.load(), 5 * 60 * 1000);
setInterval(() => pageWaiting(true), 8000);
signage.renderPrayer();
tick();
link.start();
