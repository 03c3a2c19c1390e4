// The live hosts table: one keyed row per host, updated in place. Store changes are collected and
// applied once per animation frame, so a burst of reports costs one layout, not one per report.
// Rows are fixed-height grid rows with CSS containment (not <tr>s, which cannot be contained): a
// changed figure lays out and paints its own row only, and rows out of view are skipped.

import * as format from "./format.js";
import { drawLines } from "./charts.js";

const COLUMNS = [
  { key: "host", label: "Host", value: (h) => h.host },
  { key: "online", label: "Status", value: (h) => (h.online ? 1 : 0) },
  { key: "cpu", label: "CPU", value: (h) => h.cpu, numeric: true },
  { key: "memoryUsedPercent", label: "Memory", value: (h) => h.memoryUsedPercent, numeric: true },
  { key: "load1", label: "Load", value: (h) => h.load1, numeric: true },
  { key: "rxRate", label: "In", value: (h) => h.rxRate, numeric: true },
  { key: "txRate", label: "Out", value: (h) => h.txRate, numeric: true },
  { key: "vpsCount", label: "VPS", value: (h) => h.vpsCount, numeric: true },
  { key: "lastReportAt", label: "Last report", value: (h) => h.lastReportAt ?? "" },
  { key: "chart", label: "CPU (10 min)" },
];

/** The CSS size of a row's chart (app.css says the same). */
const SPARKLINE = { width: 120, height: 24 };

/** Time spent applying updates to the table, read by the browser test (and handy in the console). */
export const tableMetrics = { flushes: 0, rowsUpdated: 0, totalMs: 0, maxMs: 0 };

export class HostsTable {
  #store;
  #body;
  #rows = new Map();
  #dirty = new Set();
  #removed = new Set();
  #frame = 0;
  #sort = { key: "host", descending: false };
  #filter = { text: "", status: "all" };
  #onSelect;
  #summary;

  #head;

  constructor({ store, table, filterInput, statusSelect, summary, onSelect }) {
    this.#store = store;
    this.#onSelect = onSelect;
    this.#summary = summary;
    this.#head = table.querySelector("[data-head]");
    this.#body = table.querySelector("[data-rows]");
    this.#buildHead(this.#head);
    filterInput.addEventListener("input", () => {
      this.#filter.text = filterInput.value.trim().toLowerCase();
      this.#refilter();
    });
    statusSelect.addEventListener("change", () => {
      this.#filter.status = statusSelect.value;
      this.#refilter();
    });
    store.addEventListener("hosts", (event) => {
      for (const name of event.detail.names) this.#dirty.add(name);
      for (const name of event.detail.removed) this.#removed.add(name);
      this.#schedule();
    });
  }

  #buildHead(head) {
    for (const column of COLUMNS) {
      const cell = document.createElement("div");
      cell.setAttribute("role", "columnheader");
      if (column.numeric) cell.className = "numeric";
      if (column.value) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = column.label;
        button.dataset.sort = column.key;
        button.addEventListener("click", () => this.#sortBy(column.key));
        cell.append(button);
      } else {
        cell.textContent = column.label;
      }
      head.append(cell);
    }
    this.#markSort(head);
  }

  #sortBy(key) {
    this.#sort = { key, descending: this.#sort.key === key ? !this.#sort.descending : COLUMNS.find((c) => c.key === key).numeric };
    this.#markSort(this.#head);
    this.#reorder();
  }

  #markSort(head) {
    for (const cell of head.children) cell.removeAttribute("aria-sort");
    const button = head.querySelector(`[data-sort="${this.#sort.key}"]`);
    button?.parentElement.setAttribute("aria-sort", this.#sort.descending ? "descending" : "ascending");
  }

  #schedule() {
    if (!this.#frame) this.#frame = requestAnimationFrame(() => this.#flush());
  }

  #flush() {
    this.#frame = 0;
    const started = performance.now();
    const dirty = this.#dirty;
    this.#dirty = new Set();
    for (const name of this.#removed) {
      this.#rows.get(name)?.element.remove();
      this.#rows.delete(name);
    }
    this.#removed.clear();
    let sortKeyChanged = false;
    for (const name of dirty) {
      const host = this.#store.hosts.get(name);
      if (!host) continue;
      let row = this.#rows.get(name);
      if (!row) {
        row = this.#createRow(name);
        sortKeyChanged = true;
      }
      const sortValue = COLUMNS.find((c) => c.key === this.#sort.key).value(host);
      if (sortValue !== row.sortValue) sortKeyChanged = true;
      row.sortValue = sortValue;
      this.#fill(row, host);
    }
    if (sortKeyChanged) this.#reorder();
    this.#updateSummary();
    const elapsed = performance.now() - started;
    tableMetrics.flushes++;
    tableMetrics.rowsUpdated += dirty.size;
    tableMetrics.totalMs += elapsed;
    tableMetrics.maxMs = Math.max(tableMetrics.maxMs, elapsed);
  }

  #createRow(name) {
    const element = document.createElement("div");
    element.className = "row";
    element.setAttribute("role", "row");
    element.dataset.host = name;
    const cells = {};
    for (const column of COLUMNS) {
      const cell = element.appendChild(document.createElement("div"));
      cell.setAttribute("role", "cell");
      cell.dataset.column = column.key;
      if (column.numeric) cell.className = "numeric";
      cells[column.key] = cell;
    }
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = name;
    open.addEventListener("click", () => this.#onSelect(name));
    cells.host.append(open);
    const status = document.createElement("span");
    cells.online.append(status);
    const chart = document.createElement("canvas");
    chart.className = "sparkline";
    chart.width = SPARKLINE.width;
    chart.height = SPARKLINE.height;
    cells.chart.append(chart);
    const row = { element, cells, status, chart, sortValue: undefined, shown: {} };
    this.#rows.set(name, row);
    element.hidden = !this.#matches(this.#store.hosts.get(name));
    this.#body.append(element);
    return row;
  }

  /** Writes only the cells whose text changed (a report usually moves a few figures). */
  #fill(row, host) {
    const texts = {
      cpu: format.percent(host.cpu),
      memoryUsedPercent: format.percent(host.memoryUsedPercent),
      load1: format.number(host.load1),
      rxRate: format.rate(host.rxRate),
      txRate: format.rate(host.txRate),
      vpsCount: host.vpsCount == null ? "–" : String(host.vpsCount),
      lastReportAt: format.clock(host.lastReportAt),
    };
    for (const [key, text] of Object.entries(texts)) {
      if (row.shown[key] !== text) {
        row.cells[key].textContent = text;
        row.shown[key] = text;
      }
    }
    if (row.shown.online !== host.online) {
      row.status.textContent = host.online ? "online" : "offline";
      row.status.className = host.online ? "badge online" : "badge offline";
      row.element.classList.toggle("offline", !host.online);
      row.shown.online = host.online;
      if (this.#filter.status !== "all") row.element.hidden = !this.#matches(host);
    }
    if (!row.element.hidden && row.shown.samples !== host.history.t.length + ":" + host.history.t.at(-1)) {
      drawLines(row.chart, host.history.t, { cpu: host.history.cpu }, { max: 100, size: SPARKLINE });
      row.shown.samples = host.history.t.length + ":" + host.history.t.at(-1);
    }
  }

  #matches(host) {
    if (this.#filter.status === "online" && !host.online) return false;
    if (this.#filter.status === "offline" && host.online) return false;
    return !this.#filter.text || host.host.toLowerCase().includes(this.#filter.text);
  }

  #refilter() {
    for (const [name, row] of this.#rows) {
      const host = this.#store.hosts.get(name);
      const hidden = !this.#matches(host);
      if (row.element.hidden !== hidden) row.element.hidden = hidden;
      if (!hidden) this.#fill(row, host);
    }
    this.#updateSummary();
  }

  /** Puts the rows in sort order, moving only those that are out of place. */
  #reorder() {
    const column = COLUMNS.find((c) => c.key === this.#sort.key);
    const direction = this.#sort.descending ? -1 : 1;
    const ordered = [...this.#rows.entries()].map(([name, row]) => ({ name, row, value: column.value(this.#store.hosts.get(name)) }));
    ordered.sort((a, b) => {
      if (a.value == null && b.value != null) return 1;
      if (b.value == null && a.value != null) return -1;
      const order = a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
      return order * direction || a.name.localeCompare(b.name);
    });
    let current = this.#body.firstElementChild;
    for (const { row } of ordered) {
      if (current === row.element) current = current.nextElementSibling;
      else this.#body.insertBefore(row.element, current);
    }
  }

  #updateSummary() {
    let online = 0;
    let shown = 0;
    for (const [name, row] of this.#rows) {
      if (this.#store.hosts.get(name)?.online) online++;
      if (!row.element.hidden) shown++;
    }
    this.#summary.textContent = `${shown} of ${this.#rows.size} hosts shown, ${online} online`;
  }
}
