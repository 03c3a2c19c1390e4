// The job console: pick a host and one of the actions its agent allows, fill the action's typed
// parameters, run it, and watch its output arrive; cancel it; the recent jobs and their states.

import * as format from "./format.js";
import { element, replaceRows } from "./dom.js";
import { isFinished } from "./store.js";

const INPUT_FOR_TYPE = {
  int: { type: "number", step: "1", inputMode: "numeric" },
  ip: { type: "text", pattern: "[0-9a-fA-F:.]+", placeholder: "192.0.2.10" },
  string: { type: "text" },
  "vps-name": { type: "text", placeholder: "VPS name" },
};

export class JobConsole {
  #store;
  #connection;
  #root;
  #form;
  #actions = [];
  #selectedJob = null;
  #rendered = { job: null, count: 0 };
  #hostNames = new Set();
  #frame = 0;
  #stale = new Set();

  constructor({ store, connection, root }) {
    this.#store = store;
    this.#connection = connection;
    this.#root = root;
    this.#form = root.querySelector("form");
    const hostInput = this.#form.elements.host;
    hostInput.addEventListener("change", () => this.#loadActions(hostInput.value.trim()));
    this.#form.elements.action.addEventListener("change", () => this.#showParams());
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#run();
    });
    root.querySelector("[data-cancel]").addEventListener("click", () => this.#cancel());
    store.addEventListener("hosts", (event) => {
      if (event.detail.removed.length || [...event.detail.names].some((name) => !this.#hostNames.has(name))) this.#later("hosts");
    });
    store.addEventListener("job", () => this.#later("job", "recent"));
    store.addEventListener("output", (event) => {
      if (event.detail === this.#selectedJob) this.#later("job");
    });
  }

  /** Fills the host field (from the host view's "Run a job" button). */
  async pickHost(name) {
    this.#form.elements.host.value = name;
    this.#root.scrollIntoView({ behavior: "smooth", block: "start" });
    await this.#loadActions(name);
  }

  /** After a sign-in or a reconnect: the recent jobs again, and every unfinished one watched again. */
  async catchUp() {
    const { jobs } = await this.#connection.request("jobs.list", { limit: 50 });
    for (const job of jobs) this.#store.putJob(job);
    const open = [...this.#store.jobs.values()].filter((job) => !isFinished(job.state));
    await Promise.all(open.map((job) => this.#watch(job.id).catch(() => {})));
    if (this.#selectedJob && isFinished(this.#store.jobs.get(this.#selectedJob)?.state)) await this.#show(this.#selectedJob);
    const host = this.#form.elements.host.value.trim();
    if (host) await this.#loadActions(host);
  }

  async #watch(id) {
    const { job, output } = await this.#connection.request("jobs.watch", { job: id });
    this.#store.putJob(job);
    this.#store.addOutput(output ?? []);
  }

  async #show(id) {
    const { job, output } = await this.#connection.request("jobs.show", { job: id });
    this.#store.putJob(job);
    this.#store.addOutput(output ?? []);
  }

  async #loadActions(host) {
    const select = this.#form.elements.action;
    this.#actions = [];
    replaceRows(select, [element("option", { value: "" }, host ? "loading…" : "pick a host first")]);
    this.#showParams();
    if (!host) return;
    try {
      const { actions } = await this.#connection.request("actions.list", { host });
      if (this.#form.elements.host.value.trim() !== host) return;
      this.#actions = actions;
      replaceRows(select, [
        element("option", { value: "" }, actions.length ? "pick an action" : "this host allows no action"),
        ...actions.map((action) => element("option", { value: action.name }, action.name)),
      ]);
      this.#message("");
    } catch (error) {
      replaceRows(select, [element("option", { value: "" }, "no actions")]);
      this.#message(error.message, true);
    }
    this.#showParams();
  }

  #showParams() {
    const action = this.#actions.find((a) => a.name === this.#form.elements.action.value);
    this.#root.querySelector("[data-description]").textContent = action?.description ?? "";
    const vpsNames = (this.#store.hosts.get(this.#form.elements.host.value.trim())?.detail?.vps ?? []).map((v) => v.name);
    const fields = (action?.params ?? []).map((param) => {
      let input;
      if (param.type === "enum") {
        input = element("select", {}, [
          ...(param.required ? [] : [element("option", { value: "" }, "—")]),
          ...(param.values ?? []).map((value) => element("option", { value }, value)),
        ]);
      } else {
        input = element("input", INPUT_FOR_TYPE[param.type] ?? INPUT_FOR_TYPE.string);
        if (param.type === "vps-name" && vpsNames.length) {
          input.setAttribute("list", "vps-names");
          replaceRows(this.#root.querySelector("#vps-names"), vpsNames.map((name) => element("option", { value: name })));
        }
      }
      input.name = `param.${param.name}`;
      input.required = Boolean(param.required);
      return element("label", {}, [element("span", {}, `${param.name}${param.required ? " *" : ""} (${param.type})`), input]);
    });
    replaceRows(this.#root.querySelector("[data-params]"), fields);
    this.#form.elements.run.disabled = !action;
  }

  async #run() {
    const elements = this.#form.elements;
    const params = {};
    for (const input of this.#form.querySelectorAll("[name^='param.']")) {
      if (input.value !== "") params[input.name.slice(6)] = input.value;
    }
    const data = { host: elements.host.value.trim(), action: elements.action.value, params };
    if (elements.timeout.value) data.timeoutSeconds = Number(elements.timeout.value);
    if (elements.stdin.value) data.stdin = elements.stdin.value;
    elements.run.disabled = true;
    try {
      const { job } = await this.#connection.request("jobs.run", data);
      this.#store.putJob(job);
      this.#select(job.id);
      this.#message(`Job ${job.id} ${job.state}.`);
    } catch (error) {
      this.#message(error.message, true);
    } finally {
      elements.run.disabled = false;
    }
  }

  async #cancel() {
    if (!this.#selectedJob) return;
    try {
      const { job } = await this.#connection.request("jobs.cancel", { job: this.#selectedJob });
      this.#store.putJob(job);
    } catch (error) {
      this.#message(error.message, true);
    }
  }

  #select(id) {
    this.#selectedJob = id;
    this.#rendered = { job: null, count: 0 };
    this.#later("job", "recent");
    const job = this.#store.jobs.get(id);
    if (job && !(this.#store.output.has(id))) (isFinished(job.state) ? this.#show(id) : this.#watch(id)).catch((error) => this.#message(error.message, true));
  }

  #message(text, isError = false) {
    const message = this.#root.querySelector("[data-message]");
    message.textContent = text;
    message.classList.toggle("error", isError);
  }

  /** Redraws the named parts ("hosts", "job", "recent") at the next frame, once however often asked. */
  #later(...parts) {
    for (const part of parts) this.#stale.add(part);
    if (!this.#frame) {
      this.#frame = requestAnimationFrame(() => {
        this.#frame = 0;
        const stale = this.#stale;
        this.#stale = new Set();
        if (stale.has("hosts")) this.#renderHostNames();
        if (stale.has("job")) this.#renderJob();
        if (stale.has("recent")) this.#renderRecent();
      });
    }
  }

  #renderHostNames() {
    this.#hostNames = new Set(this.#store.hosts.keys());
    const names = [...this.#hostNames].sort();
    replaceRows(this.#root.querySelector("#host-names"), names.map((name) => element("option", { value: name })));
  }

  #renderJob() {
    const job = this.#store.jobs.get(this.#selectedJob);
    const panel = this.#root.querySelector("[data-job]");
    panel.hidden = !job;
    if (!job) return;
    panel.querySelector("[data-job-title]").textContent = `${job.action} on ${job.host} (${job.id})`;
    const state = panel.querySelector("[data-job-state]");
    state.textContent = job.state;
    state.className = `badge state-${job.state}`;
    const exit = job.exitCode != null ? `exit ${job.exitCode}` : job.signal != null ? `signal ${job.signal}` : "";
    panel.querySelector("[data-job-exit]").textContent = exit;
    panel.querySelector("[data-job-duration]").textContent = job.durationMs != null ? format.duration(job.durationMs) : "";
    panel.querySelector("[data-cancel]").disabled = isFinished(job.state);
    const output = panel.querySelector("[data-output]");
    const chunks = this.#store.output.get(job.id) ?? [];
    if (this.#rendered.job !== job.id || chunks.length < this.#rendered.count) {
      output.replaceChildren();
      this.#rendered = { job: job.id, count: 0 };
    }
    const stick = output.scrollTop + output.clientHeight >= output.scrollHeight - 4;
    for (const chunk of chunks.slice(this.#rendered.count)) {
      output.append(element("span", { className: chunk.stream }, chunk.data));
    }
    this.#rendered.count = chunks.length;
    if (stick) output.scrollTop = output.scrollHeight;
  }

  #renderRecent() {
    const rows = this.#store.recentJobs().map((job) => {
      const row = element("tr", { dataset: { job: job.id } }, [
        element("td", {}, [element("button", { type: "button", className: "link", onclick: () => this.#select(job.id) }, job.id)]),
        element("td", {}, job.host),
        element("td", {}, job.action),
        element("td", {}, [element("span", { className: `badge state-${job.state}` }, job.state)]),
        element("td", {}, format.clock(job.startedAt ?? job.queuedAt)),
        element("td", { className: "numeric" }, job.durationMs != null ? format.duration(job.durationMs) : ""),
        element("td", { className: "numeric" }, job.exitCode != null ? String(job.exitCode) : job.signal != null ? `sig ${job.signal}` : ""),
      ]);
      if (job.id === this.#selectedJob) row.classList.add("selected");
      return row;
    });
    replaceRows(this.#root.querySelector("[data-recent] tbody"), rows.length ? rows : [element("tr", {}, [element("td", { colSpan: 7 }, "No jobs yet.")])]);
  }
}
