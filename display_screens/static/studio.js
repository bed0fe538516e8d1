"use strict";
/* The voice studio (/admin/suara): the script of clips comes from /admin/suara/naskah; each clip
   is recorded with the microphone (MediaRecorder), listened to, recorded again or accepted.
   Accepting uploads the recording; the server trims, levels and stores it in the draft (or says
   why not). Preview, publish, restore, export and import talk to the same /admin/suara API. */

const studio = document.getElementById("studio");
const csrf = studio.dataset.csrf;
const maxSeconds = Number(studio.dataset.maxSeconds);
const list = document.getElementById("clips");
const message = document.getElementById("studio-message");
const problem = document.getElementById("studio-error");
let stream = null;
let recorder = null;
const takes = new Map(); /* clip id -> Blob not yet accepted */
const GROUPS = { angka: t("studio.group.angka"), huruf: t("studio.group.huruf"), kalimat: t("studio.group.kalimat") };

function say(text) {
  problem.hidden = true;
  message.textContent = text;
  message.hidden = false;
}

function fail(text) {
  message.hidden = true;
  problem.textContent = text;
  problem.hidden = false;
}

async function errorText(response) {
  try {
    const body = await response.json();
    return body.error.message;
  } catch (err) {
    return t("studio.failed");
  }
}

function button(label, act) {
  const node = el("button", "", label);
  node.type = "button";
  node.dataset.act = act;
  return node;
}

function row(clip) {
  const item = el("li", "s-clip");
  item.dataset.clip = clip.id;
  item.dataset.recorded = clip.recorded ? "1" : "0";
  item.dataset.maxSeconds = String(clip.max_seconds);
  const words = el("div");
  words.append(el("span", "s-read", clip.read), el("span", "s-group", GROUPS[clip.group] || ""));
  const state = el("span", "s-state", clip.recorded ? t("studio.recorded") : t("studio.not_recorded"));
  const actions = el("div", "s-actions");
  const audio = document.createElement("audio");
  audio.controls = true;
  audio.hidden = !clip.recorded;
  if (clip.recorded) audio.src = `/admin/suara/klip/${clip.id}.wav?v=${Date.now()}`;
  const stop = button(t("studio.stop"), "stop");
  const listen = button(t("studio.listen_take"), "listen");
  const accept = button(t("studio.accept"), "accept");
  stop.hidden = listen.hidden = accept.hidden = true;
  actions.append(button(clip.recorded ? t("studio.rerecord") : t("studio.record"), "record"),
                 stop, listen, accept, audio);
  item.append(words, state, actions);
  return item;
}

function progress(done, total) {
  document.getElementById("done").textContent = String(done);
  document.getElementById("total").textContent = String(total);
  const bar = document.getElementById("progress-bar");
  bar.max = Math.max(1, total);
  bar.value = done;
}

function versionRows(versions) {
  const body = document.querySelector("#versions tbody");
  body.replaceChildren();
  for (const v of versions) {
    const tr = document.createElement("tr");
    tr.dataset.version = String(v.number);
    const when = new Date(v.published * 1000).toLocaleString("id-ID");
    const cell = document.createElement("td");
    if (v.active) cell.append(el("strong", "", t("studio.active")));
    else {
      const restore = button(t("studio.restore"), "restore");
      restore.dataset.version = String(v.number);
      cell.append(restore);
    }
    tr.append(el("td", "", String(v.number)), el("td", "", when), el("td", "n", String(v.clips)), cell);
    body.append(tr);
  }
}

async function load() {
  const response = await fetch("/admin/suara/naskah", { cache: "no-store" });
  if (!response.ok) { fail(await errorText(response)); return; }
  const script = await response.json();
  list.replaceChildren(...script.clips.map(row));
  progress(script.done, script.total);
  versionRows(script.versions);
  document.getElementById("export-live").hidden = !script.live; /* nothing to export yet */
  studio.dataset.ready = "1";
}

async function refreshCounts() {
  const response = await fetch("/admin/suara/naskah", { cache: "no-store" });
  if (!response.ok) return;
  const script = await response.json();
  progress(script.done, script.total);
  versionRows(script.versions);
  document.getElementById("export-live").hidden = !script.live; /* nothing to export yet */
}

async function record(item) {
  if (recorder && recorder.state === "recording") recorder.stop();
  try {
    if (!stream) stream = await navigator.mediaDevices.getUserMedia({
      /* the voice as it is: the server levels it; echo and noise filters would smear it */
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (err) {
    fail(t("studio.no_microphone"));
    return;
  }
  const chunks = [];
  recorder = new MediaRecorder(stream);
  const mine = recorder;
  item.dataset.recording = "1";
  item.querySelector('[data-act="stop"]').hidden = false;
  item.querySelector('[data-act="listen"]').hidden = true;
  item.querySelector('[data-act="accept"]').hidden = true;
  mine.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  mine.onstop = () => {
    item.dataset.recording = "0";
    takes.set(item.dataset.clip, new Blob(chunks, { type: mine.mimeType }));
    item.querySelector('[data-act="stop"]').hidden = true;
    item.querySelector('[data-act="listen"]').hidden = false;
    item.querySelector('[data-act="accept"]').hidden = false;
    item.dataset.taken = "1";
  };
  mine.start();
  say(t("studio.recording", { words: item.querySelector(".s-read").textContent }));
  setTimeout(() => { if (mine.state === "recording") mine.stop(); }, (Number(item.dataset.maxSeconds) + 1) * 1000);
}

async function accept(item) {
  const take = takes.get(item.dataset.clip);
  if (!take) return;
  const accepted = item.querySelector('[data-act="accept"]');
  accepted.disabled = true;
  try {
    const response = await fetch(`/admin/suara/klip/${item.dataset.clip}`, {
      method: "POST", body: take, headers: { "X-CSRF-Token": csrf, "Content-Type": take.type || "application/octet-stream" },
    });
    if (!response.ok) { fail(await errorText(response)); return; }
    const done = await response.json();
    takes.delete(item.dataset.clip);
    item.dataset.recorded = "1";
    item.dataset.taken = "0";
    item.querySelector(".s-state").textContent = t("studio.recorded");
    item.querySelector('[data-act="record"]').textContent = t("studio.rerecord");
    accepted.hidden = true;
    item.querySelector('[data-act="listen"]').hidden = true;
    const audio = item.querySelector("audio");
    audio.src = `/admin/suara/klip/${item.dataset.clip}.wav?v=${Date.now()}`;
    audio.hidden = false;
    say(t("studio.accepted", { seconds: done.seconds.toLocaleString("id-ID"), lufs: done.loudness.toLocaleString("id-ID") }));
    await refreshCounts();
  } finally {
    accepted.disabled = false;
  }
}

list.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (!target) return;
  const item = target.closest(".s-clip");
  const act = target.dataset.act;
  if (act === "record") record(item);
  else if (act === "stop" && recorder && recorder.state === "recording") recorder.stop();
  else if (act === "listen" && takes.has(item.dataset.clip)) {
    const audio = item.querySelector("audio");
    audio.src = URL.createObjectURL(takes.get(item.dataset.clip));
    audio.hidden = false;
    audio.play().catch(() => {});
  } else if (act === "accept") accept(item);
});

document.getElementById("preview-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const ticket = document.getElementById("preview-prefix").value + document.getElementById("preview-number").value;
  const counter = document.getElementById("preview-counter").value;
  const audio = document.getElementById("preview-audio");
  audio.src = `/admin/suara/pratinjau.wav?tiket=${encodeURIComponent(ticket)}&loket=${encodeURIComponent(counter)}`;
  audio.play().catch(() => {});
});

async function post(url, body) {
  const response = await fetch(url, { method: "POST", body, headers: { "X-CSRF-Token": csrf } });
  if (!response.ok) { fail(await errorText(response)); return null; }
  return response.json();
}

document.getElementById("publish").addEventListener("click", async () => {
  const done = await post("/admin/suara/terbitkan");
  if (done) { say(t("studio.published_now", { version: done.version })); await refreshCounts(); }
});

document.getElementById("versions").addEventListener("click", async (event) => {
  const target = event.target.closest('button[data-act="restore"]');
  if (!target) return;
  const done = await post(`/admin/suara/versi/${target.dataset.version}/pulihkan`);
  if (done) { say(t("studio.restored", { version: done.version })); await load(); }
});

document.getElementById("import-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = document.getElementById("import-file").files[0];
  if (!file) return;
  const done = await post("/admin/suara/impor", file);
  if (done) { say(t("studio.imported", { clips: done.clips })); await load(); }
});

load();
