"use strict";
/* The complaint form (/pengaduan) on the kiosk and on a phone: a category, the text, an optional
   contact and (not on the kiosk) photo, sent as a multipart form to POST /api/complaints; then
   the tracking code, big. On the kiosk the text and the contact are typed on the kiosk's
   on-screen keyboard (keyboard.js). Everything the visitor typed is shown with textContent
   only. */

(function () {
  const config = readJson("config");
  const form = document.getElementById("complaint-form");
  const text = document.getElementById("text");
  const count = document.getElementById("count");
  const error = document.getElementById("error");
  const send = document.getElementById("send");
  const photo = document.getElementById("photo"); /* none on the kiosk */
  const contact = document.getElementById("contact");

  function showError(message) {
    setText(error, message);
    error.hidden = !message;
  }

  function chosenPhoto() {
    return photo && photo.files && photo.files[0];
  }

  if (photo) {
    photo.addEventListener("change", () => {
      const file = chosenPhoto();
      setText(document.getElementById("photo-name"), file ? file.name : t("complaint.photo_none"));
    });
  }
  if (config.kiosk) {
    new OnScreenKeyboard(document.getElementById("keyboard"), [text, contact]);
    text.focus();
  }

  /* On the kiosk: back to the ticket machine after config.idle_ms without a touch or key, so
     the next visitor sees neither a half-written complaint nor someone's code. */
  let idleSince = Date.now();
  if (config.kiosk) {
    for (const kind of ["pointerdown", "keydown", "input"]) {
      document.addEventListener(kind, () => { idleSince = Date.now(); }, true);
    }
    setInterval(() => {
      if (Date.now() - idleSince >= config.idle_ms) window.location.href = "/kiosk";
    }, Math.min(1000, config.idle_ms));
  }

  text.addEventListener("input", () => {
    setText(count, `${text.value.trim().length}/${config.text_max}`);
  });

  function check() {
    if (!form.querySelector("input[name=category]:checked")) return t("complaint.error.category");
    const length = text.value.trim().length;
    if (length < config.text_min) return t("complaint.error.too_short", { n: config.text_min });
    if (length > config.text_max) return t("complaint.error.too_long", { n: config.text_max });
    const file = chosenPhoto();
    if (file && file.size > config.max_photo_bytes) return t("complaint.error.photo_big");
    return "";
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const problem = check();
    showError(problem);
    if (problem) return;
    const body = new FormData();
    body.append("category", form.querySelector("input[name=category]:checked").value);
    body.append("text", text.value);
    const reach = contact.value.trim();
    if (reach) body.append("contact", reach);
    const file = chosenPhoto();
    if (file) body.append("photo", file, file.name);
    if (config.ticket) body.append("ticket", config.ticket);
    send.disabled = true;
    try {
      const response = await fetch("/api/complaints", { method: "POST", body });
      const answer = await response.json().catch(() => ({}));
      if (response.status !== 201) {
        showError((answer.error && answer.error.message) || t("page.error.generic"));
        return;
      }
      setText(document.getElementById("tracking"), answer.tracking);
      const see = document.getElementById("see"); /* not on the kiosk: the next visitor */
      if (see) see.href = answer.url;
      form.hidden = true;
      document.getElementById("sent").hidden = false;
      window.scrollTo(0, 0);
      idleSince = Date.now(); /* the kiosk goes back after the same idle time */
    } catch (err) {
      showError(t("page.offline"));
    } finally {
      send.disabled = false;
    }
  });
})();
