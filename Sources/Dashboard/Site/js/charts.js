// Small line charts drawn on a canvas by the page itself: a host's CPU and bandwidth over the last
// minutes. Each chart is redrawn whole (a few hundred points), only when its host changed.

const COLORS = { cpu: "#3b82f6", rx: "#10b981", tx: "#f59e0b" };

/**
 * Draws `series` (arrays of numbers or null, one per key of `keys`) against the times in `t`.
 * `max` fixes the top of the scale (100 for percent); otherwise it follows the data. `size` is the
 * canvas's CSS size when the caller knows it: reading it from the canvas forces a layout, which
 * in a loop over table rows costs a layout of the whole table per row.
 */
export function drawLines(canvas, t, series, { max = null, windowMs = 10 * 60 * 1000, size = null } = {}) {
  const ratio = window.devicePixelRatio || 1;
  const width = size?.width ?? (canvas.clientWidth || canvas.width);
  const height = size?.height ?? (canvas.clientHeight || canvas.height);
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
  }
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  if (!t.length) return;
  // The scale spans the history there is (at least 10 s), so a new chart is not a sliver at the right.
  const now = Date.now();
  const span = Math.min(windowMs, Math.max(10 * 1000, now - t[0]));
  const start = now - span;
  let top = max ?? 0;
  if (max == null) for (const values of Object.values(series)) for (const value of values) if (value > top) top = value;
  top = top || 1;
  const x = (time) => ((time - start) / span) * (width - 2) + 1;
  const y = (value) => height - 1 - (value / top) * (height - 4);
  context.lineWidth = 1.5;
  for (const [key, values] of Object.entries(series)) {
    context.strokeStyle = COLORS[key] ?? "#64748b";
    context.beginPath();
    let drawing = false;
    for (let i = 0; i < t.length; i++) {
      if (values[i] == null || t[i] < start) {
        drawing = false;
        continue;
      }
      if (drawing) context.lineTo(x(t[i]), y(values[i]));
      else context.moveTo(x(t[i]), y(values[i]));
      drawing = true;
    }
    context.stroke();
  }
}
