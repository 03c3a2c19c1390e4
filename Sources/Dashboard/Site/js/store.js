// What the page knows: hosts (headline figures and a short history for the charts) and jobs. It is
// filled from replies and events; views subscribe and redraw only what changed.

const HISTORY_MS = 10 * 60 * 1000;
const HISTORY_MAX_POINTS = 240;
const RECENT_JOBS = 50;
const FINISHED = new Set(["done", "failed", "cancelled", "timed_out", "lost"]);

export const isFinished = (state) => FINISHED.has(state);

function sum(list, field) {
  return (list ?? []).reduce((total, item) => total + (Number(item[field]) || 0), 0);
}

/** The headline figures that a HostState (or the parts of it that a host.changed carries) implies. */
function summaryParts(state) {
  const parts = {};
  if ("online" in state) parts.online = state.online;
  if ("lastReportAt" in state) parts.lastReportAt = state.lastReportAt;
  if (state.info) {
    const { memoryTotal, memoryAvailable, load } = state.info;
    if (memoryTotal > 0) parts.memoryUsedPercent = ((memoryTotal - memoryAvailable) * 100) / memoryTotal;
    if (Array.isArray(load) && load.length) parts.load1 = load[0];
  }
  if (state.cpu && typeof state.cpu === "object") parts.cpu = state.cpu.total;
  if (state.bandwidth) {
    parts.rxRate = sum(state.bandwidth.interfaces, "rxRate");
    parts.txRate = sum(state.bandwidth.interfaces, "txRate");
  }
  if (Array.isArray(state.vps)) parts.vpsCount = state.vps.length;
  return parts;
}

export class Store extends EventTarget {
  hosts = new Map();
  jobs = new Map();
  output = new Map();
  stats = null;

  /** Replaces every host with a hosts.list answer (after a sign-in or a reconnect). */
  setHosts(summaries) {
    const seen = new Set();
    for (const summary of summaries) {
      seen.add(summary.host);
      this.#merge(summary.host, summary, summary.cpu !== undefined || summary.rxRate !== undefined);
    }
    const removed = [...this.hosts.keys()].filter((name) => !seen.has(name));
    for (const name of removed) this.hosts.delete(name);
    this.#changed(new Set(seen), removed);
  }

  /** A host.changed event: only the parts that changed. */
  applyChange(change) {
    const parts = summaryParts(change);
    this.#merge(change.host, parts, "cpu" in parts || "rxRate" in parts);
    if (change.info || change.vps || change.cpu || change.bandwidth || change.ipMap) {
      const host = this.hosts.get(change.host);
      host.detail = { ...(host.detail ?? {}), ...change };
    }
    this.#changed(new Set([change.host]));
  }

  /** host.online and host.offline. */
  setOnline(name, online, at) {
    this.#merge(name, { online, ...(online ? {} : { offlineSince: at }) }, false);
    this.#changed(new Set([name]));
  }

  /** A hosts.show answer: the full state, for the host view. */
  setDetail(state) {
    this.#merge(state.host, summaryParts(state), false);
    this.hosts.get(state.host).detail = state;
    this.#changed(new Set([state.host]));
  }

  setStats(stats) {
    this.stats = stats;
    this.dispatchEvent(new CustomEvent("stats"));
  }

  /** A job record from any reply or job.state event; keeps the newest RECENT_JOBS. */
  putJob(job) {
    this.jobs.set(job.id, { ...(this.jobs.get(job.id) ?? {}), ...job });
    if (this.jobs.size > RECENT_JOBS * 2) this.#trimJobs();
    this.dispatchEvent(new CustomEvent("job", { detail: job.id }));
  }

  /** Output chunks of a job, in seq order, each once (a re-watch after a reconnect repeats them). */
  addOutput(chunks) {
    const touched = new Set();
    for (const chunk of chunks) {
      const list = this.output.get(chunk.job) ?? [];
      if (!this.output.has(chunk.job)) this.output.set(chunk.job, list);
      if (list.some((known) => known.seq === chunk.seq)) continue;
      list.push(chunk);
      if (list.length > 1 && list[list.length - 2].seq > chunk.seq) list.sort((a, b) => a.seq - b.seq);
      touched.add(chunk.job);
    }
    for (const job of touched) this.dispatchEvent(new CustomEvent("output", { detail: job }));
  }

  /** Jobs newest first. */
  recentJobs() {
    return [...this.jobs.values()].sort((a, b) => (b.queuedAt ?? "").localeCompare(a.queuedAt ?? "")).slice(0, RECENT_JOBS);
  }

  #trimJobs() {
    const keep = new Set(this.recentJobs().map((job) => job.id));
    for (const id of this.jobs.keys()) {
      if (!keep.has(id) && isFinished(this.jobs.get(id).state)) {
        this.jobs.delete(id);
        this.output.delete(id);
      }
    }
  }

  #merge(name, parts, sample) {
    let host = this.hosts.get(name);
    if (!host) {
      host = { host: name, online: false, history: { t: [], cpu: [], rx: [], tx: [] } };
      this.hosts.set(name, host);
    }
    Object.assign(host, parts);
    if (parts.online) delete host.offlineSince;
    if (sample) this.#sample(host);
  }

  #sample(host) {
    const history = host.history;
    const now = Date.now();
    history.t.push(now);
    history.cpu.push(host.cpu ?? null);
    history.rx.push(host.rxRate ?? null);
    history.tx.push(host.txRate ?? null);
    let drop = 0;
    while (drop < history.t.length && (now - history.t[drop] > HISTORY_MS || history.t.length - drop > HISTORY_MAX_POINTS)) drop++;
    if (drop) for (const series of Object.values(history)) series.splice(0, drop);
  }

  #changed(names, removed = []) {
    this.dispatchEvent(new CustomEvent("hosts", { detail: { names, removed } }));
  }
}
