// The vendored libraries (uPlot, Leaflet) are classic deferred scripts placed after main.js in
// index.html, so that the panels' questions are on their way while the libraries are compiled
// and run. Deferred scripts have all run by DOMContentLoaded: a panel waits for that before
// it draws a chart or a map.

const parsed = new Promise((resolve) => {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", resolve, { once: true });
  else resolve();
});

export const libraries = () => parsed;
