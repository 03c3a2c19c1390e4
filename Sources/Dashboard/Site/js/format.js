// How figures are shown: one place, so the table, the host view and the charts agree.

export function percent(value) {
  return value == null ? "–" : `${value.toFixed(value < 10 ? 1 : 0)} %`;
}

export function number(value, digits = 2) {
  return value == null ? "–" : value.toFixed(digits);
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

export function bytes(value) {
  if (value == null) return "–";
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 && unit ? 1 : 0)} ${UNITS[unit]}`;
}

export function rate(value) {
  return value == null ? "–" : `${bytes(value)}/s`;
}

export function duration(ms) {
  if (ms == null) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "12 s ago" for an RFC 3339 time; the exact time goes in a title attribute. */
export function ago(time, now = Date.now()) {
  if (!time) return "never";
  const ms = now - Date.parse(time);
  if (!Number.isFinite(ms)) return time;
  return ms < 1500 ? "just now" : `${duration(ms).replace(/ \d+ s$/, "")} ago`;
}

export function clock(time) {
  return time ? new Date(time).toLocaleTimeString() : "–";
}
