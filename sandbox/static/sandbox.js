// The sandbox page: shows what the server renders and sends back what people do.
// No framework and no build step: fetch, EventSource and event delegation.
"use strict";

const state = { person: null, conv: "home", people: [], threadTs: null, homeOpened: {}, toBottom: false };
const $ = (id) => document.getElementById(id);

async function post(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(Object.assign({ as: state.person }, body)),
  });
  const answer = await response.json().catch(() => ({ ok: false, error: "The sandbox did not answer." }));
  if (!answer.ok) toast(answer.error || "That did not work.", true);
  return answer;
}

// A short sentence at the bottom; `lasting` ones stay until the next toast replaces them.
function toast(text, bad, lasting) {
  const box = $("sb-toast");
  box.textContent = text;
  box.className = "sb-toast sb-toast-shown" + (bad ? " sb-toast-bad" : "");
  clearTimeout(toast.timer);
  if (!lasting) toast.timer = setTimeout(() => { box.className = "sb-toast"; }, 8000);
}

// Views are fetched on every change; a slow answer must never overwrite a newer one.
let asked = 0;
let shownPane = null;

async function refresh() {
  if (!state.person) return;
  const ticket = ++asked;
  const query = new URLSearchParams({ as: state.person, conv: state.conv });
  const response = await fetch("/page/view?" + query).catch(() => null);
  if (!response || !response.ok || ticket !== asked) return;
  const view = await response.json();
  if (ticket !== asked) return;
  renderConversations(view.conversations);
  const pane = $("sb-pane");
  const atBottom = state.toBottom || pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
  // Unchanged, the pane is left alone: an open ⋯ menu or a half-typed App Home input stays.
  if (view.pane !== shownPane) {
    pane.innerHTML = view.pane;
    shownPane = view.pane;
  }
  state.toBottom = false;
  if (atBottom) pane.scrollTop = pane.scrollHeight;
  renderModal(view.modal);
  renderBanners(view.banners);
  $("sb-clock").textContent = view.now ? "Sandbox time: " + view.now : "";
  $("sb-composer").hidden = state.conv === "home";
}

function renderConversations(list) {
  const nav = $("sb-conversations");
  nav.replaceChildren(...list.map((c) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sb-conv" + (c.id === state.conv ? " sb-conv-current" : "");
    button.dataset.conv = c.id;
    button.textContent = c.label;
    if (c.id === state.conv) $("sb-title").textContent = c.label;
    return button;
  }));
}

function renderModal(html) {
  const modal = $("sb-modal");
  if (!html) {
    if (!modal.hidden && modal.contains(document.activeElement)) $("sb-text").focus();
    modal.hidden = true; modal.innerHTML = ""; modal.dataset.shown = ""; return;
  }
  if (modal.dataset.shown === html && !modal.hidden) return; // keep what is being typed
  const viewId = (html.match(/data-view-id="([^"]*)"/) || [])[1] || "";
  const another = modal.hidden || modal.dataset.viewId !== viewId;
  const box = document.createElement("div");
  box.className = "sb-modal";
  box.setAttribute("role", "dialog");
  box.setAttribute("aria-modal", "true");
  box.innerHTML = html;
  const title = box.querySelector(".bk-view-title");
  if (title) { title.id = "sb-modal-title"; box.setAttribute("aria-labelledby", title.id); }
  modal.replaceChildren(box);
  modal.dataset.shown = html;
  modal.dataset.viewId = viewId;
  modal.hidden = false;
  if (another) {
    // A new modal: focus its first field, as Slack does. A re-render (field errors) keeps
    // focus where it is, or on the first field with an error.
    const first = box.querySelector("input:not([type=hidden]), textarea, select") || box.querySelector("button");
    if (first) first.focus();
  } else {
    const wrong = box.querySelector(".bk-input-has-error input, .bk-input-has-error textarea, .bk-input-has-error select");
    if (wrong) wrong.focus();
  }
}

function renderBanners(banners) {
  const box = $("sb-banners");
  if (!banners.length) { box.replaceChildren(); return; }
  const items = banners.map((text) => {
    const line = document.createElement("div");
    line.className = "sb-banner";
    line.textContent = text;
    return line;
  });
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.id = "sb-dismiss";
  dismiss.textContent = "Dismiss";
  box.replaceChildren(...items, dismiss);
}

// What a form of inputs holds: {block_id: {action_id: string | string[]}}.
function valuesOf(root) {
  const values = {};
  const put = (el, value) => {
    const block = el.dataset.blockId, action = el.dataset.actionId;
    (values[block] = values[block] || {})[action] = value;
  };
  root.querySelectorAll("input[data-action-id], textarea[data-action-id], select[data-action-id]").forEach((el) => {
    if (el.type === "checkbox") {
      const block = el.dataset.blockId, action = el.dataset.actionId;
      const list = ((values[block] || {})[action]) || [];
      if (el.checked) list.push(el.value);
      put(el, list);
    } else if (el.type === "radio") {
      if (el.checked) put(el, el.value);
      else if (!((values[el.dataset.blockId] || {})[el.dataset.actionId])) put(el, null);
    } else if (el.tagName === "SELECT" && el.multiple) {
      put(el, Array.from(el.selectedOptions).map((o) => o.value));
    } else {
      put(el, el.value);
    }
  });
  return values;
}

function containerOf(el) {
  const view = el.closest(".bk-view");
  if (view) {
    const kind = view.dataset.viewType === "home" ? "home" : "view";
    return { type: kind, view_id: view.dataset.viewId, values: valuesOf(view) };
  }
  const message = el.closest(".sb-message");
  if (!message) return null;
  return { type: "message", channel: message.dataset.channel, ts: message.dataset.ts,
           ephemeral: message.dataset.ephemeral === "true" };
}

async function act(el, raw) {
  const container = containerOf(el);
  if (!container) return;
  if (el.dataset.url) window.open(el.dataset.url, "_blank", "noopener");
  await post("/page/click", {
    action_id: el.dataset.actionId, block_id: el.dataset.blockId, type: el.dataset.type,
    value: el.dataset.value, raw: raw === undefined ? el.dataset.value : raw, container,
  });
}

document.addEventListener("click", async (event) => {
  const target = event.target.closest("button, [data-conv]");
  if (!target) return;
  if (target.dataset.conv) { choose(target.dataset.conv); return; }
  if (target.id === "sb-dismiss") { await post("/page/dismiss", {}); return; }
  if (target.classList.contains("sb-preset")) { travel(target.dataset.at); return; }
  const message = target.closest(".sb-message");
  if (target.classList.contains("sb-shortcut") && message) {
    target.closest("details").open = false;
    await post("/page/shortcut", { channel: message.dataset.channel, ts: message.dataset.ts });
    return;
  }
  if (target.classList.contains("sb-reply-button") && message) {
    target.closest("details").open = false;
    state.threadTs = message.dataset.ts;
    $("sb-thread").hidden = false;
    $("sb-thread").textContent = "Replying in thread — press Esc to stop";
    $("sb-text").focus();
    return;
  }
  const viewAction = target.dataset.viewAction;
  if (viewAction) {
    const view = target.closest(".bk-view");
    if (viewAction === "submit") {
      await post("/page/submit", { view_id: view.dataset.viewId, values: valuesOf(view) });
    } else {
      await post("/page/close", { view_id: view.dataset.viewId });
    }
    return;
  }
  if (target.dataset.actionId && !target.disabled) {
    if (target.dataset.confirm && !window.confirm(target.dataset.confirm)) return;
    const overflow = target.closest("details.bk-overflow");
    if (overflow) overflow.open = false;
    await act(target, target.dataset.value);
  }
});

document.addEventListener("change", async (event) => {
  const el = event.target;
  if (!el.dataset || !el.dataset.actionId) return;
  const block = el.closest(".bk-block");
  // Inputs in an input block are sent with the submission, like Slack does.
  if (block && block.dataset.type === "input") return;
  let raw = el.value;
  if (el.tagName === "SELECT" && el.multiple) raw = Array.from(el.selectedOptions).map((o) => o.value);
  if (el.type === "checkbox") {
    raw = Array.from(block.querySelectorAll('input[type=checkbox][data-action-id="' + el.dataset.actionId + '"]'))
      .filter((box) => box.checked).map((box) => box.value);
  }
  await act(el, raw);
});

$("sb-composer").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("sb-text");
  const text = input.value;
  if (!text.trim()) return;
  const answer = await post("/page/compose", { conv: state.conv, text, thread_ts: state.threadTs });
  if (answer.ok) { input.value = ""; stopThread(); }
});

$("sb-text").addEventListener("keydown", (event) => { if (event.key === "Escape") stopThread(); });

document.addEventListener("keydown", async (event) => {
  const modal = $("sb-modal");
  if (event.key !== "Escape" || modal.hidden) return;
  const view = modal.querySelector(".bk-view");
  if (view) await post("/page/close", { view_id: view.dataset.viewId });
});

function stopThread() { state.threadTs = null; $("sb-thread").hidden = true; }

$("sb-travel").addEventListener("submit", (event) => {
  event.preventDefault();
  travel($("sb-travel-at").value);
});

async function travel(at) {
  if (!at) { toast("Pick a date and time to travel to.", true); return; }
  // Running every job takes a moment: one trip at a time, and say so until it is done.
  const buttons = $("sb-travel").querySelectorAll("button");
  if (travel.busy) return;
  travel.busy = true;
  buttons.forEach((button) => { button.disabled = true; });
  $("sb-travel").setAttribute("aria-busy", "true");
  toast("Running the scheduled jobs as of " + at.replace("T", " ") + "…", false, true);
  try {
    const answer = await post("/page/travel", { at });
    if (answer.ok) { toast(answer.message); await loadPresets(); }
  } finally {
    travel.busy = false;
    $("sb-travel").removeAttribute("aria-busy");
    $("sb-travel").querySelectorAll("button").forEach((button) => { button.disabled = false; });
  }
  await refresh();
}

async function choose(conv) {
  state.conv = conv;
  stopThread();
  if (conv === "home" && !state.homeOpened[state.person]) {
    state.homeOpened[state.person] = true;
    await post("/page/home", {});
  }
  shownPane = null;
  state.toBottom = true; // a conversation opens at its newest message
  await refresh();
}

async function loadPresets() {
  const who = await (await fetch("/page/people")).json();
  const box = $("sb-presets");
  box.replaceChildren(...who.presets.map((preset) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sb-preset";
    button.dataset.at = preset.at;
    button.textContent = preset.label;
    return button;
  }));
  if (who.presets.length) $("sb-travel-at").value = who.presets[0].at;
  return who;
}

async function start() {
  const who = await loadPresets();
  state.people = who.people;
  const select = $("sb-person");
  select.replaceChildren(...who.people.map((p) => {
    const option = document.createElement("option");
    option.value = p.id;
    option.textContent = p.name + " — " + p.title;
    return option;
  }));
  const remembered = new URLSearchParams(location.search).get("as");
  state.person = who.people.some((p) => p.id === remembered) ? remembered : who.people[0].id;
  select.value = state.person;
  select.addEventListener("change", () => {
    state.person = select.value;
    history.replaceState(null, "", "?as=" + encodeURIComponent(state.person));
    choose("D" + state.person);
  });
  await choose("D" + state.person);
  const events = new EventSource("/page/events");
  events.onmessage = () => refresh();
}

start();
