// The cluster's counts (cluster.stats): gateways, workers, connected clients, agents online, hosts.
// Asked again every few seconds while connected, and soon after a host comes or goes.

const REFRESH_MS = 5000;
const FIELDS = ["gateways", "workers", "clients", "agentsOnline", "hosts"];

export class ClusterStats {
  #store;
  #connection;
  #root;
  #soon = 0;

  constructor({ store, connection, root }) {
    this.#store = store;
    this.#connection = connection;
    this.#root = root;
    store.addEventListener("stats", () => this.#render());
    setInterval(() => {
      if (connection.state === "online") this.refresh().catch(() => {});
    }, REFRESH_MS);
  }

  /** Asks again shortly: several host events in a row cost one request. */
  refreshSoon() {
    if (this.#soon) return;
    this.#soon = setTimeout(() => {
      this.#soon = 0;
      if (this.#connection.state === "online") this.refresh().catch(() => {});
    }, 500);
  }

  async refresh() {
    this.#store.setStats(await this.#connection.request("cluster.stats"));
  }

  #render() {
    const stats = this.#store.stats ?? {};
    for (const field of FIELDS) {
      const value = stats[field];
      this.#root.querySelector(`[data-stat=${field}]`).textContent = value == null ? "–" : String(value);
    }
  }
}
