// Two small helpers for building DOM nodes without innerHTML (text from the cluster is never parsed as HTML).

/** An element with properties (className, colSpan, dataset entries as data-*) and text or child nodes. */
export function element(tag, properties = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(properties)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else node[key] = value;
  }
  if (typeof children === "string") node.textContent = children;
  else node.append(...children);
  return node;
}

/** Replaces a container's children at once. */
export function replaceRows(container, nodes) {
  container.replaceChildren(...nodes);
}
