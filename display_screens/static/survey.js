"use strict";
/* The satisfaction survey (SKM) widget, shared by the visitor's ticket status page and the
   counter's tablet (/rating/{n}): the nine elements one at a time, each with four big answer
   buttons in the regulation's wording (1 the worst, 4 the best), then the optional respondent
   profile, send, thank-you. The survey's texts come from the server (#survey-data).
   On the status page it opens once the ticket is served and not yet rated; status.js tells it
   about every change of the ticket with a "ticket" event on document. */

class SurveyForm {
  /* root: the element to draw into; survey: {elements, profile} as survey_questions.questions();
     options.submit(answers, profile) -> Promise<{ok, status, data}> (postJson's answer);
     options.onActivity() on every touch; options.onFinish(state) once thanked or refused. */
  constructor(root, survey, options) {
    this.root = root;
    this.survey = survey;
    this.submit = options.submit;
    this.onActivity = options.onActivity || (() => {});
    this.onFinish = options.onFinish || (() => {});
    this.answers = [];
    this.profile = {};
    this.step = 0;
    this.state = "idle";
    root.addEventListener("pointerdown", () => this.onActivity());
    root.addEventListener("keydown", () => this.onActivity());
  }

  begin() {
    this.answers = [];
    this.profile = {};
    this.step = 0;
    this.show("question");
  }

  show(state, message) {
    this.state = state;
    this.root.dataset.state = state;
    this.root.replaceChildren();
    if (state === "question") this.drawQuestion();
    else if (state === "profile") this.drawProfile();
    else if (state === "sending") this.root.append(el("p", "sv-note", t("survey.sending")));
    else if (state === "thanks") this.drawEnd("sv-thanks", t("survey.thanks"), t("survey.thanks_detail"));
    else if (state === "already") this.drawEnd("sv-already", t("survey.already"), t("survey.already_detail"));
    else if (state === "error") this.drawError(message);
  }

  drawQuestion() {
    const element = this.survey.elements[this.step];
    const total = this.survey.elements.length;
    const progress = el("div", "sv-progress");
    progress.append(el("span", "sv-step", t("survey.progress", { n: element.number, total })));
    const bar = el("div", "sv-bar");
    const fill = el("div", "sv-bar-fill");
    fill.style.width = `${Math.round((this.step / total) * 100)}%`;
    bar.append(fill);
    progress.append(bar);
    const name = el("div", "sv-element", `U${element.number} · ${element.name}`);
    const question = el("h3", "sv-question", element.question);
    question.id = "sv-question";
    const answers = el("div", "sv-answers");
    answers.setAttribute("role", "group");
    answers.setAttribute("aria-labelledby", "sv-question");
    for (const answer of [...element.answers].reverse()) { // the best first, as forms print it
      const button = el("button", "sv-answer", answer.label);
      button.type = "button";
      button.dataset.value = String(answer.value);
      button.classList.add(`v${answer.value}`);
      if (this.answers[this.step] === answer.value) button.classList.add("chosen");
      button.addEventListener("click", () => this.answer(answer.value));
      answers.append(button);
    }
    this.root.append(progress, name, question, answers);
    if (this.step > 0) this.root.append(this.backButton(() => this.go(this.step - 1)));
  }

  answer(value) {
    this.answers[this.step] = value;
    if (this.step + 1 < this.survey.elements.length) this.go(this.step + 1);
    else this.show("profile");
  }

  go(step) {
    this.step = step;
    this.show("question");
    this.root.scrollIntoView({ block: "start" });
  }

  backButton(action) {
    const back = el("button", "sv-back", t("survey.back"));
    back.type = "button";
    back.addEventListener("click", action);
    return back;
  }

  drawProfile() {
    this.root.append(el("h3", "sv-question", t("survey.profile_title")),
      el("p", "sv-note", t("survey.profile_intro")));
    for (const field of this.survey.profile) {
      const set = el("fieldset", "sv-field");
      set.dataset.field = field.key;
      set.append(el("legend", "", field.label));
      const choices = el("div", "sv-choices");
      for (const choice of field.choices) {
        const button = el("button", "sv-choice");
        // a line may break after a slash ("Pelajar/ mahasiswa" on a phone): <wbr> after each
        choice.label.split("/").forEach((part, n) => {
          if (n) button.append("/", document.createElement("wbr"));
          button.append(part);
        });
        button.type = "button";
        button.dataset.value = choice.value;
        button.setAttribute("aria-pressed", String(this.profile[field.key] === choice.value));
        button.addEventListener("click", () => {
          if (this.profile[field.key] === choice.value) delete this.profile[field.key];
          else this.profile[field.key] = choice.value;
          for (const other of choices.children) {
            other.setAttribute("aria-pressed", String(this.profile[field.key] === other.dataset.value));
          }
        });
        choices.append(button);
      }
      set.append(choices);
      this.root.append(set);
    }
    const send = el("button", "sv-send", t("survey.send"));
    send.type = "button";
    send.id = "sv-send";
    send.addEventListener("click", () => this.send());
    this.root.append(send, this.backButton(() => this.go(this.survey.elements.length - 1)));
  }

  async send() {
    this.show("sending");
    let result;
    try {
      result = await this.submit(this.answers.slice(), { ...this.profile });
    } catch (err) {
      this.show("error", t("page.offline"));
      return;
    }
    const code = result.data && result.data.error && result.data.error.code;
    if (result.ok) this.show("thanks");
    else if (code === "already_rated") this.show("already");
    else if (result.status === 409 || result.status === 404) {
      this.drawEnd("sv-refused", errorText(result), "");
      this.state = "refused";
      this.root.dataset.state = "refused";
    } else {
      this.show("error", errorText(result));
      return;
    }
    this.onFinish(this.state);
  }

  drawEnd(className, headline, detail) {
    this.root.replaceChildren();
    const box = el("div", `sv-end ${className}`);
    box.setAttribute("role", "status");
    box.append(el("p", "sv-end-headline", headline));
    if (detail) box.append(el("p", "sv-note", detail));
    this.root.append(box);
  }

  drawError(message) {
    this.root.append(el("p", "sv-error", message));
    const retry = el("button", "sv-send", t("survey.retry"));
    retry.type = "button";
    retry.addEventListener("click", () => this.send());
    this.root.append(retry, this.backButton(() => this.show("profile")));
  }
}

/* The status page: the survey under the ticket once it is served and not yet rated. */
(function statusPageSurvey() {
  const section = document.getElementById("survey");
  if (!section || section.dataset.place !== "status") return;
  const data = readJson("survey-data");
  const body = section.querySelector(".sv-body");
  let form = null;
  let loaded = false;
  function follow(ticket) {
    if (form === null && ticket.status === "served" && ticket.survey === "open") {
      form = new SurveyForm(body, data, {
        submit: (answers, profile) => postJson(`${ticket.status_url}/survey`, { answers, profile }),
      });
      form.begin();
      section.hidden = false;
      // served while the visitor watched: bring the survey up (it is below the ticket)
      if (loaded) section.scrollIntoView({ behavior: "smooth", block: "start" });
    } else if (form === null && ticket.survey === "done") {
      form = new SurveyForm(body, data, { submit: () => Promise.reject(new Error("done")) });
      form.show("already");
      section.hidden = false;
    }
  }
  document.addEventListener("ticket", (event) => follow(event.detail));
  const config = readJson("config");
  if (config.ticket) follow(config.ticket);
  window.addEventListener("load", () => { loaded = true; });
})();
