/*
 * The reference agent desk (/desk/): plain JavaScript, no build step, nothing from elsewhere.
 * Integrators may copy it. It signs in with the admin's session and sends Django's CSRF token
 * (X-CSRFToken) on writes; a desktop holding an API token sends `Authorization: Token ...`
 * instead. Every write carries a fresh Idempotency-Key, so a retried click records once.
 *
 * Endpoints it uses (docs/api.md):
 *   GET  /api/v1/desk/stream                            live feed (Server-Sent Events):
 *                                                       screen_pop, call_ended, queue_changed
 *   GET  /api/v1/suggestions/?status=open,claimed       the queue, most urgent first
 *   POST /api/v1/suggestions/{id}/claim/  release/  complete/  snooze/
 *   GET  /api/v1/patients/{id}/                         a profile (queue rows, after a booking)
 *   GET  /api/v1/patients/lookup?phone=&patient=        the pop of the household member picked,
 *                                                       and of calls waiting when the page opens
 *   GET  /api/v1/patients/?search=                      find an unknown caller
 *   GET  /api/v1/patients/{id}/suggestions/             their open suggestions, once found
 *   GET  /api/v1/patients/{id}/timeline/?page_size=10   the last events, once the call is logged
 *   GET  /api/v1/desk/calls/                            calls live or held when the page opens
 *   POST /api/v1/desk/calls/{sid}/attribute/            who of a shared (or unknown) number called
 *   POST /api/v1/desk/calls/{sid}/wrap-up/              reason, resolved on first contact, note
 *   GET  /api/v1/contact-reasons/                       the clinic's reasons, for the wrap-up
 *   POST /api/v1/patients/{id}/appointments/            book a visit
 *   POST /api/v1/patients/{id}/appointments/{appointment_id}/confirm/
 *
 * Times are shown in the patient's own zone (the profile's `timezone`), with the zone's name.
 */
"use strict";

(() => {
  const desk = document.getElementById("desk");
  const ME = desk.dataset.user;
  const CSRF = desk.dataset.csrf;
  const CRISIS_LINE = desk.dataset.crisisLine;
  const CLINIC_ZONE = desk.dataset.clinicZone;
  const calls = new Map(); // call sid -> {sid, pop, patient, timeline, suggestions, ended, view}
  const people = new Map(); // patient id -> promise of their profile (queue rows)
  let shown = null; // the sid of the call on screen
  let reasons = null; // promise of GET /api/v1/contact-reasons/

  // ---- The API: JSON in and out; errors are problem documents (detail says what is wrong).

  class Problem extends Error {
    constructor(status, body) {
      super(body.detail || body.title || `The server answered ${status}.`);
      this.status = status;
    }
  }

  async function api(path, body) {
    const options = { headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.method = "POST";
      options.body = JSON.stringify(body);
      Object.assign(options.headers, {
        "Content-Type": "application/json",
        "X-CSRFToken": CSRF,
        "Idempotency-Key": crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}.${Math.random()}`,
      });
    }
    const response = await fetch(path, options);
    const data = await response.json().catch(() => ({}));
    if (response.status === 401) feedState("Your session has ended: reload the page to sign in again.", "is-down");
    if (!response.ok) throw new Problem(response.status, data);
    return data;
  }

  const q = encodeURIComponent;

  // ---- Small helpers: elements built from text (never HTML), times, words.

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === false || value == null) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    node.append(...children.flat().filter((child) => child != null && child !== false));
    return node;
  }

  function when(iso, zone) {
    if (!iso) return "";
    return new Intl.DateTimeFormat("en-US", {
      timeZone: zone || CLINIC_ZONE, weekday: "short", month: "short", day: "numeric",
      year: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short",
    }).format(new Date(iso));
  }

  // "2026-12-08T10:15" on the wall clocks of `zone` -> "2026-12-08T10:15:00-05:00".
  function zoned(local, zone) {
    const parts = (date) => Object.fromEntries(new Intl.DateTimeFormat("en-US", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric",
      hour: "numeric", minute: "numeric", second: "numeric",
    }).formatToParts(date).map((p) => [p.type, Number(p.value)]));
    const offset = (date) => {
      const p = parts(date);
      return (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - date) / 60000;
    };
    const asUtc = new Date(`${local}:00Z`);
    const minutes = offset(new Date(asUtc - offset(asUtc) * 60000)); // twice: DST edges
    const sign = minutes < 0 ? "-" : "+";
    const hhmm = [Math.floor(Math.abs(minutes) / 60), Math.abs(minutes) % 60]
      .map((n) => String(n).padStart(2, "0")).join(":");
    return `${local}:00${sign}${hhmm}`;
  }

  // +16175550134 -> (617) 555-0134; other countries' numbers stay as they are.
  const dialed = (e164) => String(e164 || "").replace(/^\+1(\d{3})(\d{3})(\d{4})$/, "($1) $2-$3");
  const words = (value) => String(value || "").replaceAll("_", " ");
  const seconds = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`);
  const DISPOSITIONS = { abandoned: "hung up in the queue", no_answer: "no answer" };
  const CHANNELS = { sms: "text (SMS)", voice: "phone" };
  // Visit types and modalities in the clinic's words, as the booking form's options say them.
  const SAID = Object.fromEntries([...document.getElementById("book-form").content.querySelectorAll("option")]
    .map((option) => [option.value, option.textContent]));
  const said = (value) => SAID[value] || words(value);

  function feedState(text, kind) {
    const node = document.getElementById("feed-state");
    node.textContent = text;
    node.className = `desk-feed ${kind}`;
  }

  function announce(text) {
    document.getElementById("announce").textContent = text;
  }

  // ---- The live feed. EventSource reconnects by itself and sends Last-Event-ID, so the
  // server replays what was missed in between.

  function listen() {
    const feed = new EventSource("/api/v1/desk/stream");
    feed.addEventListener("open", () => feedState("Live: calls and queue changes appear as they happen.", "is-live"));
    feed.addEventListener("error", () => {
      if (feed.readyState === EventSource.CLOSED) {
        feedState("The live feed stopped: reload the page (you may need to sign in again).", "is-down");
      }
      else feedState("Reconnecting to the live feed…", "");
    });
    feed.addEventListener("screen_pop", (event) => onPop(JSON.parse(event.data)));
    feed.addEventListener("call_ended", (event) => onEnded(JSON.parse(event.data)));
    feed.addEventListener("queue_changed", () => refreshQueueSoon());
  }

  // ---- Calls: each pop gets its own view, kept while the desk is open, so switching between
  // calls loses nothing typed.

  function onPop(pop, waiting = false) {
    const call = calls.get(pop.call_sid) || { sid: pop.call_sid };
    const suggestions = pop.open_suggestions || [];
    Object.assign(call, { pop, patient: pop.patient, timeline: pop.recent_timeline || [], suggestions });
    calls.set(call.sid, call);
    const who = call.patient ? call.patient.display_name
      : (pop.candidates || []).length ? `a number shared by ${pop.candidates.length} patients` : "an unknown caller";
    const number = dialed(pop.phone) || "a withheld number";
    const what = waiting ? "Call waiting from" : "Incoming call from";
    announce(`${crisis(call) ? `Crisis flag: ${CRISIS_LINE} first. ` : ""}${what} ${who}, ${number}.`);
    show(call.sid);
  }

  // Calls still ringing or held for the agent (rung before this page opened): their pops,
  // from the lookup of the caller's number, as the feed would have brought them.
  async function resume() {
    const waiting = (await api("/api/v1/desk/calls/")).filter((c) => c.state !== "ended").reverse();
    for (const c of waiting) {
      if (calls.has(c.call_sid)) continue;
      const pick = c.patient_id ? `&patient=${q(c.patient_id)}` : "";
      const found = c.phone ? await api(`/api/v1/patients/lookup?phone=${q(c.phone)}${pick}`).catch(() => null) : null;
      const about = { call_sid: c.call_sid, queue_position: c.queue_position, crisis_first: c.crisis_first };
      onPop({ phone: c.phone, candidates: [], ...found, ...about }, true);
      if (c.state === "held") onEnded({ ...c, held: true });
    }
  }

  function onEnded(ended) {
    const call = calls.get(ended.call_sid);
    if (!call) return; // a call that rang before this page opened
    call.ended = ended;
    call.endedAt = Date.now(); // the wrap-up's time runs from here
    if (ended.logged && call.patient) loadTimeline(call);
    render(call);
    tabs();
  }

  function show(sid) {
    shown = sid;
    const call = calls.get(sid);
    if (!call.view) call.view = buildView(call);
    render(call);
    document.getElementById("pop").replaceChildren(call.view);
    tabs();
  }

  function tabs() {
    const items = [...calls.values()].reverse().map((c) => el("li", {}, el("button", {
      type: "button", "aria-current": String(c.sid === shown), class: crisis(c) ? "is-crisis" : null,
      onclick: () => show(c.sid),
    }, c.patient ? c.patient.display_name : dialed(c.pop.phone) || "Withheld", c.ended ? " (ended)" : "")));
    document.getElementById("calls").replaceChildren(...items);
  }

  const crisis = (call) => Boolean(call.pop.crisis_first || call.pop.crisis || (call.patient && call.patient.crisis_flag));

  function buildView(call) {
    const main = el("div", { class: "desk-main" });
    const wrapUp = document.getElementById("wrap-up-form").content.firstElementChild.cloneNode(true);
    const book = document.getElementById("book-form").content.firstElementChild.cloneNode(true);
    fillReasons(wrapUp.elements.reason_code);
    wrapUp.addEventListener("submit", (event) => submit(event, () => sendWrapUp(call, wrapUp)));
    book.addEventListener("submit", (event) => submit(event, () => sendBooking(call, book)));
    call.parts = { main, book };
    return el("div", {}, main, wrapUp, book);
  }

  // Everything above the forms, in the order an agent reads it: crisis first.
  function render(call) {
    if (!call.view) return;
    const { main, book } = call.parts;
    const patient = call.patient;
    const zone = patient ? patient.timezone : CLINIC_ZONE;
    book.hidden = !patient;
    book.querySelector("[data-zone-label]").textContent = `(${zone})`;
    main.replaceChildren(...[
      crisis(call) ? crisisBanner(call) : null,
      caller(call),
      patient ? null : pick(call),
      patient ? section("Open suggestions", call.suggestions, (s) => [
        el("strong", {}, s.label), s.overdue ? el("span", { class: "desk-badge is-danger" }, "overdue") : null,
        el("div", {}, s.reason), el("div", { class: "desk-meta" }, `Due ${when(s.due_at, zone)}`),
      ]) : null,
      patient ? section("Upcoming visits", patient.upcoming_appointments, (a) => visit(call, a, zone)) : null,
      patient ? section("Consents", patient.consents, (c) => [
        `${CHANNELS[c.channel] || words(c.channel)}, ${words(c.purpose)}: `,
        el("strong", {}, c.granted ? "granted" : "withdrawn"),
        el("span", { class: "desk-meta" }, ` (${words(c.source)}, ${when(c.at, zone)})`),
      ]) : null,
      patient ? section("Last events", call.timeline, (e) => [
        el("div", {}, e.summary),
        el("div", { class: "desk-meta" }, `${when(e.occurred_at, zone)} · ${e.recorded_by.name}`),
      ]) : null,
    ].filter(Boolean));
  }

  function crisisBanner(call) {
    const last = call.patient && call.patient.last_crisis;
    const line = (call.patient && call.patient.crisis_line) || CRISIS_LINE;
    return el("div", { class: "desk-crisis", role: "alert" },
      el("strong", { class: "desk-crisis-line" }, `Crisis line ${line}`),
      call.patient && call.patient.crisis_flag ? "This patient has an open crisis flag. "
        : "Someone who uses this number has an open crisis flag. ",
      `Stay with the caller; if they may be in danger, connect them to ${line} now.`,
      last ? el("div", {}, `Last crisis contact ${when(call.patient.last_crisis_at, call.patient.timezone)}: `
        + `${words(last.risk_level)} risk, handoff ${words(last.handoff)}, ${words(last.safety_plan)} safety plan.`) : null);
  }

  function caller(call) {
    const p = call.patient;
    const ended = call.ended;
    let state = call.pop.queue_position ? `On the line, number ${call.pop.queue_position} in the queue.` : "On the line.";
    if (ended) {
      state = `Call ended: ${DISPOSITIONS[ended.disposition] || words(ended.disposition)}`
        + (ended.talk_seconds ? `, talked ${seconds(ended.talk_seconds)}` : "")
        + (ended.queue_seconds ? `, waited ${seconds(ended.queue_seconds)}` : "") + ". "
        + (ended.logged ? `Logged on ${p ? `${p.display_name}'s` : "the patient's"} record.`
          : ended.held ? "Held: choose who called to log it." : "");
    }
    return el("div", { class: "desk-caller" },
      el("h3", {}, p ? p.display_name : dialed(call.pop.phone) || "Withheld number"),
      p ? el("p", {}, `Born ${p.date_of_birth} · ${p.phone_display || p.phone} · time zone ${p.timezone}`,
        p.deceased ? el("span", { class: "desk-badge is-danger" }, "deceased") : null) : null,
      el("p", { class: `desk-state${ended ? (ended.logged ? " is-logged" : " is-ended") : ""}`, "data-call-state": "" }, state),
      el("p", { class: "desk-meta" }, `Call ${call.sid}`));
  }

  // A shared number: the agent asks who is calling and picks them. Unknown: find them.
  function pick(call) {
    const candidates = call.found || call.pop.candidates || [];
    const search = el("form", { method: "post", class: "desk-pair" },
      el("span", {}, el("label", { for: "find-caller" }, "Find the caller by name or date of birth"),
        el("input", {
          id: "find-caller", name: "search", type: "search", required: true, autocomplete: "off", value: call.searched,
        })),
      el("span", {}, el("button", { type: "submit" }, "Search")));
    search.addEventListener("submit", (event) => submit(event, async () => {
      call.searched = search.elements.search.value;
      call.found = (await api(`/api/v1/patients/?search=${q(call.searched)}&page_size=10`)).results;
      render(call);
    }));
    const intro = call.pop.candidates && call.pop.candidates.length
      ? `${call.pop.candidates.length} patients share this number. Ask who is calling, then choose them.`
      : `No patient has the number ${dialed(call.pop.phone) || "(withheld)"}. Ask who is calling.`;
    return el("div", { class: "desk-panel" }, el("h3", {}, "Who is calling?"), el("p", {}, intro),
      el("ul", {}, candidates.map((c) => el("li", {}, `${c.display_name}, born ${c.date_of_birth} `,
        el("button", { type: "button", onclick: (event) => choose(call, c.patient_id, event.target) },
          `${c.display_name} is calling`)))),
      call.found && !call.found.length ? el("p", { class: "desk-empty" }, `Nobody found for “${call.searched}”.`) : null,
      el("div", { class: "desk-panel-body" }, search, el("p", { class: "desk-result", role: "status" })));
  }

  async function choose(call, patientId, button) {
    button.disabled = true;
    try {
      await api(`/api/v1/desk/calls/${q(call.sid)}/attribute/`, { patient_id: patientId });
      if ((call.pop.candidates || []).some((c) => c.patient_id === patientId)) {
        const pop = await api(`/api/v1/patients/lookup?phone=${q(call.pop.phone)}&patient=${q(patientId)}`);
        Object.assign(call, { patient: pop.patient, timeline: pop.recent_timeline, suggestions: pop.open_suggestions || [] });
      } else { // found by a search: the caller rang from a number not on their record
        const [patient, theirs] = await Promise.all([api(`/api/v1/patients/${q(patientId)}/`),
          api(`/api/v1/patients/${q(patientId)}/suggestions/`)]);
        const open = theirs.suggestions.filter((s) => s.status === "open" || s.status === "claimed");
        Object.assign(call, { patient, suggestions: open });
        await loadTimeline(call);
      }
      if (call.ended && call.ended.held) Object.assign(call.ended, { held: false, logged: true });
      show(call.sid);
    } catch (error) {
      button.disabled = false;
      announce(error.message);
    }
  }

  function section(title, items, line) {
    return el("section", { class: "desk-panel" }, el("h3", {}, title),
      items && items.length ? el("ul", {}, items.map((item) => el("li", {}, line(item))))
        : el("p", { class: "desk-empty" }, "None."));
  }

  function visit(call, a, zone) {
    const confirm = el("button", { type: "button", class: "desk-quiet" }, "Confirm");
    confirm.addEventListener("click", () => submit(null, async () => {
      await api(`/api/v1/patients/${call.patient.patient_id}/appointments/${a.appointment_id}/confirm/`, { via: "voice" });
      await reloadPatient(call);
    }, confirm));
    return [
      el("strong", {}, `${said(a.appointment_type)}, ${said(a.modality).toLowerCase()}`), ` · ${when(a.starts_at, zone)}`,
      a.confirmed ? el("span", { class: "desk-badge is-ok" }, "confirmed") : null,
      el("div", { class: "desk-meta" }, `${a.provider} · ${a.location} · ${a.duration_minutes} min`),
      a.confirmed ? null : confirm,
    ];
  }

  async function loadTimeline(call) {
    const page = await api(`/api/v1/patients/${call.patient.patient_id}/timeline/?page_size=10`);
    call.timeline = page.results;
    render(call);
  }

  async function reloadPatient(call) {
    call.patient = await api(`/api/v1/patients/${call.patient.patient_id}/`);
    await loadTimeline(call);
  }

  // ---- Forms: one submission at a time; the result (or the API's reason) is announced.

  async function submit(event, action, button) {
    const form = event ? event.target : null;
    if (event) event.preventDefault();
    const trigger = button || form.querySelector("button[type=submit]");
    const result = (form || trigger.closest(".desk-panel") || document).querySelector(".desk-result")
      || document.getElementById("announce");
    trigger.disabled = true;
    try {
      const said = await action();
      result.textContent = said || "";
      result.classList.remove("is-error");
    } catch (error) {
      result.textContent = error.message;
      result.classList.add("is-error");
    } finally {
      trigger.disabled = false;
    }
  }

  function fillReasons(select) {
    reasons = reasons || api("/api/v1/contact-reasons/");
    reasons.then((list) => select.append(
      ...list.reasons.map((r) => el("option", { value: r.code }, r.label)),
      el("option", { value: list.other }, "Other (say it in your words)"),
    ));
  }

  async function sendWrapUp(call, form) {
    const f = form.elements;
    await api(`/api/v1/desk/calls/${q(call.sid)}/wrap-up/`, {
      reason_code: f.reason_code.value,
      reason: f.reason.value,
      resolved_first_contact: f.resolved_first_contact.checked,
      note: f.note.value,
      wrap_up_seconds: call.endedAt ? Math.round((Date.now() - call.endedAt) / 1000) : 0,
    });
    if (call.patient && call.ended && call.ended.logged) loadTimeline(call);
    return "Wrap-up saved on this call.";
  }

  async function sendBooking(call, form) {
    const f = form.elements;
    const booked = await api(`/api/v1/patients/${call.patient.patient_id}/appointments/`, {
      appointment_type: f.appointment_type.value,
      modality: f.modality.value,
      starts_at: zoned(`${f.date.value}T${f.time.value}`, call.patient.timezone),
      duration_minutes: Number(f.duration_minutes.value),
      provider: f.provider.value,
      location: f.location.value,
    });
    await reloadPatient(call);
    const visit = call.patient.upcoming_appointments.find((a) => a.appointment_id === booked.appointment_id);
    const at = visit ? `, ${when(visit.starts_at, call.patient.timezone)}` : "";
    return `Booked: ${said(f.appointment_type.value).toLowerCase()}${at}.`;
  }

  // ---- The queue: open and claimed suggestions, most urgent first; refreshed when the feed
  // says it changed (several changes close together cost one request).

  let refreshTimer = null;
  function refreshQueueSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshQueue, 250);
  }

  function queueState(text, error) {
    const node = document.getElementById("queue-state");
    node.textContent = text;
    node.classList.toggle("desk-error", Boolean(error));
  }

  async function refreshQueue() {
    const list = document.getElementById("queue");
    list.setAttribute("aria-busy", "true");
    try {
      const page = await api("/api/v1/suggestions/?status=open,claimed&page_size=20");
      // A row that has not changed keeps its element, and with it an outcome being typed.
      const rows = new Map([...list.children].map((li) => [li.dataset.state, li]));
      list.replaceChildren(...page.results.map((s) => rows.get(rowState(s)) || queueRow(s)));
      const count = `${page.results.length}${page.next ? " or more" : ""}`;
      queueState(page.results.length ? `${count} to do, most urgent first.` : "Nothing in the queue.");
    } catch (error) {
      queueState(`The queue could not be read: ${error.message}`, true);
    } finally {
      list.setAttribute("aria-busy", "false");
    }
  }

  function person(id) {
    if (!people.has(id)) people.set(id, api(`/api/v1/patients/${q(id)}/`).catch(() => null));
    return people.get(id);
  }

  const OUTCOMES = {
    crisis_follow_up: [["reached", "Reached"], ["not_reached", "Not reached (an attempt)"]],
    sms_stop_review: [["keeps_texts", "Keeps texts"], ["opted_out", "Opted out"]],
  };
  const SNOOZES = [[1, "1 hour"], [4, "4 hours"], [24, "1 day"], [168, "1 week"]];

  const rowState = (s) => JSON.stringify([s.suggestion_id, s.status, s.assignee, s.claimed_until, s.due_at, s.overdue]);

  function queueRow(s) {
    const mine = s.status === "claimed" && s.assignee === ME;
    const held = s.status === "claimed" && !mine;
    const who = el("span", {}, "…");
    const due = el("span", {}, when(s.due_at));
    person(s.patient_id).then((p) => {
      who.textContent = p ? `${p.display_name} · ${p.phone_display || "no phone"}` : "a patient";
      if (p) due.textContent = when(s.due_at, p.timezone);
    });
    const base = `/api/v1/suggestions/${q(s.suggestion_id)}/`;
    const id = s.suggestion_id.replace(/[^A-Za-z0-9_-]/g, "-");
    const outcome = OUTCOMES[s.kind]
      ? el("select", { id: `outcome-${id}`, name: "outcome" }, OUTCOMES[s.kind].map(([v, t]) => el("option", { value: v }, t)))
      : el("input", {
        id: `outcome-${id}`, name: "outcome", type: "text", required: true, maxlength: 1000, placeholder: "What was done",
      });
    const snooze = el("select", { id: `snooze-${id}`, name: "hours" }, SNOOZES.map(([v, t]) => el("option", { value: v }, t)));
    const complete = el("form", { method: "post", class: "desk-actions" },
      el("span", {}, el("label", { for: `outcome-${id}` }, "Outcome"), outcome),
      el("button", { type: "submit" }, "Complete"));
    complete.addEventListener("submit", (event) => {
      event.preventDefault();
      act(event.submitter, `${base}complete/`, { outcome: outcome.value }, `Completed: ${s.label}.`,
        () => (outcome.value === "not_reached" ? s : null)); // an attempt: it stays open
    });
    const later = el("form", { method: "post", class: "desk-actions" },
      el("span", {}, el("label", { for: `snooze-${id}` }, "Put off for"), snooze),
      el("button", { type: "submit", class: "desk-quiet" }, "Snooze"));
    later.addEventListener("submit", (event) => {
      event.preventDefault();
      const until = new Date(Date.now() + Number(snooze.value) * 3600000).toISOString();
      act(event.submitter, `${base}snooze/`, { until }, `Snoozed: ${s.label}.`, () => null);
    });
    const button = (text, path, said, after) => el("button", {
      type: "button", class: "desk-quiet", onclick: (event) => act(event.target, path, {}, said, after),
    }, text);
    const urgent = s.priority <= 2 ? "is-priority" : null;
    return el("li", { class: urgent, "data-suggestion": s.suggestion_id, "data-state": rowState(s) },
      el("p", {}, el("strong", {}, s.label), s.overdue ? el("span", { class: "desk-badge is-danger" }, "overdue") : null,
        mine ? el("span", { class: "desk-badge is-ok" }, "claimed by you") : null),
      el("p", {}, who),
      el("p", { class: "desk-meta" }, "Due ", due, held ? ` · claimed by ${s.assignee} until ${when(s.claimed_until)}` : ""),
      el("p", {}, s.reason),
      held ? null : el("div", { class: "desk-actions" },
        mine ? button("Release", `${base}release/`, `Released: ${s.label}.`, () => ({ ...s, status: "open", assignee: "" }))
          : button("Claim", `${base}claim/`, `Claimed: ${s.label}.`, () => ({ ...s, status: "claimed", assignee: ME })),
        el("details", {}, el("summary", {}, "Complete or put off"), complete,
          s.kind === "crisis_follow_up" ? el("p", { class: "desk-meta" }, "A crisis follow-up is never put off.") : later)));
  }

  // The queue is a read model a moment behind the command: the row shows the command's result
  // at once (after() gives the row as it now stands, or null when it left the queue), and the
  // feed's queue_changed brings the queue's own word.
  async function act(button, path, body, said, after) {
    button.disabled = true;
    try {
      await api(path, body);
      const row = button.closest("li");
      const now = after();
      if (now) row.replaceWith(queueRow(now));
      else row.remove();
      queueState(said);
    } catch (error) {
      queueState(error.message, true);
      button.disabled = false;
    }
  }

  document.getElementById("queue-refresh").addEventListener("click", refreshQueue);
  listen();
  refreshQueue();
  resume().catch((error) => announce(`The calls waiting could not be read: ${error.message}`));
})();
