"use strict";
/* The kiosk's on-screen keyboard (markup: templates/keyboard.html), shared by the kiosk's search
   and the complaint form opened from the kiosk. Its keys type into the field last focused of
   those it serves (else the first), at the caret: "back" deletes before it, "clear" empties
   the field, "shift" makes the next letter a capital; any other key inserts its data-key. The
   field's maxlength holds, and each key fires the field's "input" event as real typing does.
   Pressing a key leaves the focus (and the caret) in the field. */

class OnScreenKeyboard {
  constructor(root, fields) {
    this.root = root;
    this.fields = fields;
    this.field = fields[0];
    this.shift = false;
    for (const field of fields) {
      field.addEventListener("focus", () => {
        this.field = field;
        this.mark();
      });
    }
    root.addEventListener("mousedown", (event) => {
      if (event.target.closest(".k-key")) event.preventDefault();
    });
    root.addEventListener("click", (event) => {
      const key = event.target.closest(".k-key");
      if (key) this.press(key.dataset.key);
    });
    this.mark();
  }

  press(value) {
    if (value === "shift") {
      this.setShift(!this.shift);
      return;
    }
    const field = this.field;
    const start = field.selectionStart ?? field.value.length;
    const end = field.selectionEnd ?? start;
    if (value === "back") {
      if (start !== end) field.setRangeText("", start, end, "end");
      else if (start > 0) field.setRangeText("", start - 1, start, "end");
    } else if (value === "clear") {
      field.value = "";
    } else {
      const typed = this.shift ? value.toUpperCase() : value;
      const room = field.maxLength >= 0 ? field.maxLength - field.value.length + (end - start) : Infinity;
      if (typed.length > room) return;
      field.setRangeText(typed, start, end, "end");
      this.setShift(false);
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  setShift(on) {
    this.shift = on;
    this.root.classList.toggle("shifted", on);
    const key = this.root.querySelector('.k-key[data-key="shift"]');
    if (key) key.setAttribute("aria-pressed", String(on));
  }

  /* the field the keys type into, marked for the eye */
  mark() {
    for (const field of this.fields) field.classList.toggle("k-typing", field === this.field);
  }
}
