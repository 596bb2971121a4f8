// The strikes on a map: Leaflet (vendored) over the borders of Ukraine and its neighbours
// (Natural Earth, shipped in /static/geo/), with no tile server, so nothing is fetched from
// outside the service. A strike is a red circle; its tooltip says what and where, and a click
// opens its report in the drawer (the list beside the map does the same by keyboard).

import { openReport } from "./drawer.js";

const OUTLINES = "/static/geo/outlines.geojson";
const UKRAINE = [[44.3, 22.1], [52.4, 40.2]];
const STRIKE_COLOUR = "#a40000";

let map = null;
let strikesLayer = null;
let borders = null;
let outlines = null;

// The borders, asked for once, beside the strikes' own questions rather than after them.
export function loadBorders() {
  borders ??= fetch(OUTLINES).then((response) => response.json()).catch((error) => {
    borders = null; // asked again at the next redraw
    throw error;
  });
  return borders;
}

async function outlinesLayer(L) {
  if (!outlines) {
    outlines = L.geoJSON(await loadBorders(), {
      interactive: false,
      style: (feature) => ({
        color: "#6b6b6b",
        weight: 1,
        fillColor: feature.properties.name === "Ukraine" ? "#f3e9c6" : "#ecebe6",
        fillOpacity: 1,
      }),
    });
  }
  return outlines;
}

// The map element, made once and kept across redraws (Leaflet holds it).
export function mapElement() {
  let element = document.getElementById("strikes-map");
  if (!element) {
    element = document.createElement("div");
    element.id = "strikes-map";
    element.className = "map";
    element.setAttribute("role", "region");
    element.setAttribute("aria-label", "Map of the strikes with coordinates; the list below has each of them");
  }
  return element;
}

export async function drawMap(element, features) {
  const L = window.L;
  if (!L) return;
  if (!map) {
    map = L.map(element, { zoomSnap: 0.25, worldCopyJump: false, attributionControl: true });
    map.attributionControl.setPrefix("Leaflet");
    map.attributionControl.addAttribution("Borders: Natural Earth");
    map.fitBounds(UKRAINE);
    (await outlinesLayer(L)).addTo(map);
    new ResizeObserver(() => map.invalidateSize()).observe(element);
  }
  if (strikesLayer) strikesLayer.remove();
  strikesLayer = L.layerGroup(features.map((feature) => {
    const [longitude, latitude] = feature.geometry.coordinates;
    const p = feature.properties;
    const marker = L.circleMarker([latitude, longitude], {
      radius: 8, color: "#ffffff", weight: 2, fillColor: STRIKE_COLOUR, fillOpacity: 0.9,
      className: "strike-marker",
    });
    marker.bindTooltip(`${p.attacker} struck ${p.target} (${p.place}) — per ${p.claimant}, ${p.verification}`);
    marker.on("click", () => openReport(feature.id));
    marker.on("add", () => {
      const path = marker.getElement();
      if (path) path.dataset.reportId = feature.id;
    });
    return marker;
  })).addTo(map);
}
