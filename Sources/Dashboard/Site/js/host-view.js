// One host in detail: what it is (host-info), its CPU and bandwidth charts, its VPS list, and the
// timers on its agent (asked of the agent when the view opens).
// Opened from the table; kept current from the same host.changed events as the table.

import * as format from "./format.js";
import { drawLines } from "./charts.js";
import { element, replaceRows } from "./dom.js";

export class HostView {
  #store;
  #connection;
  #root;
  #name = null;
  #frame = 0;

  constructor({ store, connection, root, onRunJob }) {
    this.#store = store;
    this.#connection = connection;
    this.#root = root;
    root.querySelector("[data-close]").addEventListener("click", () => this.close());
    root.querySelector("[data-run-job]").addEventListener("click", () => onRunJob(this.#name));
    store.addEventListener("hosts", (event) => {
      if (this.#name && event.detail.names.has(this.#name) && !this.#frame) {
        this.#frame = requestAnimationFrame(() => {
          this.#frame = 0;
          this.#render();
        });
      }
    });
  }

  async open(name) {
    this.#name = name;
    this.#root.hidden = false;
    this.#render();
    await this.refresh();
  }

  /** Loads the host's full state and its timers (on open, and after a reconnect). */
  async refresh() {
    if (!this.#name) return;
    const name = this.#name;
    try {
      const { host } = await this.#connection.request("hosts.show", { host: name });
      if (name === this.#name) this.#store.setDetail(host);
    } catch (error) {
      if (name === this.#name) this.#root.querySelector("[data-error]").textContent = error.message;
    }
    await this.#loadTimers(name);
  }

  /** The timers on the host's agent (for an offline host: as it last said, with the changes queued for it). */
  async #loadTimers(name) {
    const note = (text) => [element("tr", {}, [element("td", { colSpan: 4 }, text)])];
    let rows;
    try {
      const { timers, pending } = await this.#connection.request("timers.list", { host: name });
      rows = timers.map((timer) =>
        element("tr", { dataset: { timer: timer.name } }, [
          element("td", {}, timer.name),
          element("td", {}, format.duration(timer.everySeconds * 1000)),
          element("td", {}, timer.action),
          element("td", {}, Object.entries(timer.params ?? {}).map(([key, value]) => `${key}=${value}`).join(" ") || "–"),
        ])
      );
      if (!rows.length) rows = note("No timers.");
      if (pending?.length) {
        rows = rows.concat(note(`Waiting for the host to connect: ${pending.map((change) => `${change.change} ${change.name}`).join(", ")}.`));
      }
    } catch (error) {
      rows = note(error.message);
    }
    if (name === this.#name) replaceRows(this.#root.querySelector("[data-timers] tbody"), rows);
  }

  close() {
    this.#name = null;
    this.#root.hidden = true;
  }

  #render() {
    const host = this.#store.hosts.get(this.#name);
    if (!host) return;
    const root = this.#root;
    root.querySelector("[data-error]").textContent = "";
    root.querySelector("[data-name]").textContent = host.host;
    const status = root.querySelector("[data-status]");
    status.textContent = host.online ? "online" : "offline";
    status.className = host.online ? "badge online" : "badge offline";
    const detail = host.detail ?? {};
    const info = detail.info ?? {};
    const facts = [
      ["Hostname", info.hostname],
      ["OS", info.os],
      ["Kernel", info.kernel],
      ["CPU", info.cpuModel && `${info.cpuModel} × ${info.cpuCount}`],
      ["Memory", info.memoryTotal && `${format.bytes(info.memoryTotal - info.memoryAvailable)} of ${format.bytes(info.memoryTotal)} used`],
      ["Load", info.load?.map((value) => value.toFixed(2)).join(" / ")],
      ["I/O wait", info.ioWaitPercent != null ? format.percent(info.ioWaitPercent) : null],
      ["Uptime", info.uptimeSeconds != null ? format.duration(info.uptimeSeconds * 1000) : null],
      ["Disks", info.disks?.map((d) => `${d.mount}: ${format.bytes(d.total - d.free)} of ${format.bytes(d.total)}`).join(", ")],
      ["Last report", host.lastReportAt ? `${format.clock(host.lastReportAt)} (${format.ago(host.lastReportAt)})` : "never"],
    ];
    replaceRows(
      root.querySelector("[data-facts]"),
      facts.map(([label, value]) => [element("dt", {}, label), element("dd", {}, value ?? "–")]).flat()
    );
    drawLines(root.querySelector("[data-chart=cpu]"), host.history.t, { cpu: host.history.cpu }, { max: 100 });
    drawLines(root.querySelector("[data-chart=bandwidth]"), host.history.t, { rx: host.history.rx, tx: host.history.tx });
    root.querySelector("[data-now=cpu]").textContent = format.percent(host.cpu);
    root.querySelector("[data-now=bandwidth]").textContent = `in ${format.rate(host.rxRate)}, out ${format.rate(host.txRate)}`;
    const ipsByVps = {};
    for (const [ip, vps] of Object.entries(detail.ipMap ?? {})) (ipsByVps[vps] ??= []).push(ip);
    const vpsRows = (detail.vps ?? []).map((vps) =>
      element("tr", {}, [
        element("td", {}, vps.name),
        element("td", {}, vps.state),
        element("td", {}, vps.technology),
        element("td", {}, [...new Set([...(vps.ips ?? []), ...(ipsByVps[vps.name] ?? [])])].join(", ") || "–"),
      ])
    );
    replaceRows(root.querySelector("[data-vps] tbody"), vpsRows.length ? vpsRows : [element("tr", {}, [element("td", { colSpan: 4 }, "No VPS reported.")])]);
  }
}
