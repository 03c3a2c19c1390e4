// The dashboard's entry point: sign-in, the one connection, and the views that render the store.
// The operator token lives in this tab's sessionStorage only: never in a URL, a cookie or a log.

import { Connection } from "./connection.js";
import { Store } from "./store.js";
import { HostsTable, tableMetrics } from "./hosts-table.js";
import { HostView } from "./host-view.js";
import { JobConsole } from "./job-console.js";
import { ClusterStats } from "./cluster-stats.js";

const TOKEN_KEY = "datacentered.operatorToken";

const store = new Store();
const connection = new Connection(Connection.urlForPage(window.location));
const $ = (selector) => document.querySelector(selector);

const jobs = new JobConsole({ store, connection, root: $("#jobs") });
const hostView = new HostView({ store, connection, root: $("#host-view"), onRunJob: (name) => jobs.pickHost(name) });
new HostsTable({
  store,
  table: $("#hosts-table"),
  filterInput: $("#host-filter"),
  statusSelect: $("#host-status-filter"),
  summary: $("#hosts-summary"),
  onSelect: (name) => hostView.open(name),
});
// For the browser test's measurement, and for anyone curious in the console.
window.dashboardMetrics = tableMetrics;
const stats = new ClusterStats({ store, connection, root: $("#stats") });

connection.addEventListener("host.changed", (event) => store.applyChange(event.detail));
connection.addEventListener("host.online", (event) => store.setOnline(event.detail.host, true, event.detail.at));
connection.addEventListener("host.offline", (event) => store.setOnline(event.detail.host, false, event.detail.at));
connection.addEventListener("job.state", (event) => store.putJob(event.detail.job));
connection.addEventListener("job.output", (event) => store.addOutput([event.detail]));

connection.addEventListener("state", (event) => {
  const { state, reason } = event.detail;
  document.body.dataset.connection = state;
  $("#connection-state").textContent = { connecting: "connecting…", online: "live", reconnecting: "reconnecting…", refused: "signed out", closed: "signed out" }[state];
  $("#reconnecting").hidden = state !== "reconnecting";
  if (state === "online") {
    $("#operator").textContent = connection.identity?.operator ?? "";
    showApp(true);
    catchUp();
  } else if (state === "refused") {
    sessionStorage.removeItem(TOKEN_KEY);
    showApp(false);
    $("#sign-in-error").textContent = `Sign-in refused: ${reason}`;
  }
});

/** After a sign-in or a reconnect: everything the page shows is loaded again, so nothing missed while away stays missing. */
async function catchUp() {
  try {
    const { hosts } = await connection.request("hosts.list");
    store.setHosts(hosts);
    await Promise.all([stats.refresh(), jobs.catchUp(), hostView.refresh()]);
  } catch (error) {
    console.warn("catching up failed:", error.message);
  }
}

function showApp(signedIn) {
  $("#sign-in").hidden = signedIn;
  $("#app").hidden = !signedIn;
  $("#sign-out").hidden = !signedIn;
}

$("#sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("#token");
  const token = input.value.trim();
  input.value = "";
  if (!token) return;
  $("#sign-in-error").textContent = "";
  sessionStorage.setItem(TOKEN_KEY, token);
  connection.open(token);
});

$("#sign-out").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  connection.close();
  showApp(false);
});

const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) connection.open(saved);
else showApp(false);
