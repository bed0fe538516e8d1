"use strict";
/* Shared by every page: phrases, the site's date and time in Indonesian, request ids, JSON
   posts, and LiveLink — the one follower of the event stream: reconnects by itself, resumes
   where it left off, drops duplicates and notices what it missed. */

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

const TEXT = readJson("phrases");

/* The text of a catalogue key (texts/ on the server sends the keys these scripts use), its
   {placeholders} filled from `values`. */
function t(key, values) {
  const text = TEXT[key];
  if (typeof text !== "string") throw new Error(`no text for ${key}`);
  return values ? text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole)) : text;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function setText(node, text) {
  const value = text === undefined || text === null ? "" : String(text);
  if (node.textContent !== value) node.textContent = value;
}

/* A random id for request_id; crypto.getRandomValues also works on plain-http LAN pages. */
function requestId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/* The site's clock: the device clock corrected by the server's, shown in the site's zone. */
const SiteTime = {
  tz: "Asia/Jakarta",
  skew: 0,
  formatter: null,
  now() {
    return new Date(Date.now() + this.skew);
  },
  observe(iso) {
    const server = Date.parse(iso);
    if (Number.isNaN(server)) return;
    const skew = server - Date.now();
    if (Math.abs(skew - this.skew) > 2000) this.skew = skew;
  },
  setZone(tz) {
    if (tz && tz !== this.tz) {
      this.tz = tz;
      this.formatter = null;
    }
  },
  parts(date) {
    if (!this.formatter) {
      this.formatter = new Intl.DateTimeFormat("en-US", {
        timeZone: this.tz, year: "numeric", month: "numeric", day: "numeric",
        weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
      });
    }
    const out = {};
    for (const part of this.formatter.formatToParts(date)) out[part.type] = part.value;
    const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    return {
      year: Number(out.year), month: Number(out.month), day: Number(out.day),
      weekday: weekdays.indexOf(out.weekday), hour: out.hour, minute: out.minute,
    };
  },
  longDate(date) {
    const p = this.parts(date);
    return `${TEXT.days[p.weekday]}, ${p.day} ${TEXT.months[p.month - 1]} ${p.year}`;
  },
  clock(date) {
    const p = this.parts(date);
    return `${p.hour}.${p.minute}`; // Indonesian time: 10.30
  },
  isoDay(date) {
    const p = this.parts(date);
    return `${p.year}-${String(p.month).padStart(2, "0")}-${String(p.day).padStart(2, "0")}`;
  },
};

/* POST JSON; resolves to {ok, status, data}; rejects only when the server cannot be reached. */
async function postJson(url, body, headers) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(headers || {}) },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

function errorText(result) {
  return (result && result.data && result.data.error && result.data.error.message) || t("page.error.generic");
}

/* Event ids are "<ms>-<seq>" (Redis stream ids): compared as two numbers, never as text. */
function eventKey(id) {
  const match = /^([0-9]{1,20})-([0-9]{1,20})$/.exec(id || "");
  return match ? [BigInt(match[1]), BigInt(match[2])] : null;
}

/* True when event id `a` comes after event id `b`. */
function isAfter(a, b) {
  const [x, y] = [eventKey(a), eventKey(b)];
  return x[0] > y[0] || (x[0] === y[0] && x[1] > y[1]);
}

/* The one follower of /ws/display every page uses. Its rules (the same as protocol/follower.py):
   - a snapshot (also a "resync" one) is the new base: its event_id is where the page is;
   - an event whose id is not after the last one is dropped (a duplicate after a reconnect,
     out of order);
   - a heartbeat carries the id of the last event the server sent this link: an id after the
     last one seen means something was missed, and the link reconnects with since at once;
   - after a lost link it reconnects with since=<last event id> (exponential backoff with
     jitter), so the server replays what was missed or sends a fresh snapshot;
   - watchdogMs without any message (the server beats every 10 s, and answers pings) is a dead
     link; the "koneksi terputus" banner shows once it has been down for bannerAfterMs.
   onMessage gets snapshots, events and heartbeats, each event once and in order. */
class LiveLink {
  constructor(options) {
    this.path = options.path || "/ws/display";
    this.query = options.query || {};
    this.onMessage = options.onMessage;
    this.onOnline = options.onOnline || (() => {});
    this.onError = options.onError || (() => {}); // the server's {"type":"error"} answers
    this.retryMaxMs = options.retryMaxMs || 15000;
    this.bannerAfterMs = options.bannerAfterMs || 3000;
    this.watchdogMs = options.watchdogMs || 25000;
    this.banner = document.getElementById("offline");
    this.lastId = null;
    this.ws = null;
    this.online = false;
    this.attempt = 0;
    this.retryTimer = null;
    this.bannerTimer = null;
    this.lastMessageAt = performance.now();
  }

  start() {
    this.armBanner();
    this.connect();
    // the server answers every ping: a quiet link still hears something well within the watchdog
    setInterval(() => this.send({ type: "ping" }), Math.min(10000, this.watchdogMs / 2.5));
    setInterval(() => this.watch(), Math.min(1000, this.watchdogMs / 4));
  }

  url() {
    const params = new URLSearchParams(this.query);
    if (this.lastId) params.set("since", this.lastId);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = params.toString();
    return `${scheme}//${location.host}${this.path}${query ? "?" + query : ""}`;
  }

  connect() {
    this.retryTimer = null;
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (err) {
      this.down();
      return;
    }
    this.ws = ws;
    this.lastMessageAt = performance.now();
    ws.onmessage = (event) => {
      if (ws !== this.ws) return;
      this.lastMessageAt = performance.now();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      this.take(message);
    };
    ws.onclose = () => {
      if (ws === this.ws) this.down();
    };
  }

  /* Apply the rules above to one message from the server. */
  take(message) {
    if (!message || message.type === "pong") return;
    if (message.type === "error") {
      this.onError(message.error || {});
      return;
    }
    if (!this.online) this.up();
    if (message.type === "snapshot") {
      this.lastId = eventKey(message.event_id) ? message.event_id : null;
    } else if (message.type === "heartbeat") {
      if (this.isNew(message.event_id)) {
        this.resync();
        return;
      }
    } else {
      if (!this.isNew(message.event_id)) return; // seen, out of order, or without a valid id
      this.lastId = message.event_id;
    }
    this.onMessage(message);
  }

  /* True for a valid event id after the last one taken. */
  isNew(id) {
    return eventKey(id) !== null && (this.lastId === null || isAfter(id, this.lastId));
  }

  up() {
    this.online = true;
    this.attempt = 0;
    clearTimeout(this.bannerTimer);
    if (this.banner) this.banner.hidden = true;
    this.onOnline();
  }

  down() {
    this.drop();
    if (this.online) {
      this.online = false;
      this.armBanner();
    }
    if (this.retryTimer === null) {
      const cap = Math.min(this.retryMaxMs, 500 * 2 ** this.attempt);
      this.attempt = Math.min(this.attempt + 1, 20);
      this.retryTimer = setTimeout(() => this.connect(), cap / 2 + Math.random() * (cap / 2));
    }
  }

  drop() {
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onmessage = null;
      ws.onclose = null;
      try {
        ws.close();
      } catch (err) {
        /* already closed */
      }
    }
  }

  armBanner() {
    clearTimeout(this.bannerTimer);
    this.bannerTimer = setTimeout(() => {
      if (!this.online && this.banner) this.banner.hidden = false;
    }, this.bannerAfterMs);
  }

  watch() {
    if (this.ws && performance.now() - this.lastMessageAt > this.watchdogMs) this.down();
  }

  /* Reconnect now with since=<last event id>: the server replays what this link missed. */
  resync() {
    if (this.ws) {
      this.drop();
      this.connect();
    }
  }

  /* Start again from a fresh snapshot (a new day, a changed filter). */
  reset() {
    this.lastId = null;
    this.resync();
  }

  send(message) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }
}
