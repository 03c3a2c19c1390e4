// The cluster's counts (cluster.stats): gateways, workers, connected clients, agents online, hosts.
// Asked again every few seconds while connected.

const REFRESH_MS = 5000;
const FIELDS = ["gateways", "workers", "clients", "agentsOnline", "hosts"];

export class ClusterStats {
  #store;
  #connection;
  #root;

  constructor({ store, connection, root }) {
    this.#store = store;
    this.#connection = connection;
    this.#root = root;
    store.addEventListener("stats", () => this.#render());
    setInterval(() => {
      if (connection.state === "online") this.refresh().catch(() => {});
    }, REFRESH_MS);
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
