// How a step and a connection look on the canvas: a box per step (its label and kind), a line per exit
// with the exit's name on it. Shapes by role: a start and an end are pills, routing steps are hexagons.
import inherits from 'inherits-browser';
import BaseRenderer from 'diagram-js/lib/draw/BaseRenderer';
import { append as svgAppend, attr as svgAttr, create as svgCreate, classes as svgClasses } from 'tiny-svg';
import { createLine } from 'diagram-js/lib/util/RenderUtil';

const ROUTING = new Set(['decision', 'fork', 'join']);

export default function StepRenderer(eventBus, styles, designerConfig) {
  BaseRenderer.call(this, eventBus, 1500);
  this._styles = styles;
  this._types = designerConfig.typesByName;
}

inherits(StepRenderer, BaseRenderer);
StepRenderer.$inject = ['eventBus', 'styles', 'designerConfig'];

StepRenderer.prototype.canRender = function(element) {
  return !element.labelTarget;
};

StepRenderer.prototype.drawShape = function(parent, shape) {
  const node = shape.businessObject || {};
  const role = (this._types[node.type] || {}).role;
  const w = shape.width, h = shape.height;
  let outline;
  if (role === 'start' || role === 'end') {
    outline = svgCreate('rect', { x: 0, y: 0, width: w, height: h, rx: h / 2, ry: h / 2 });
  } else if (ROUTING.has(node.type) || role === 'fork' || role === 'join') {
    const d = 18;
    outline = svgCreate('polygon', {
      points: `${d},0 ${w - d},0 ${w},${h / 2} ${w - d},${h} ${d},${h} 0,${h / 2}`
    });
  } else {
    outline = svgCreate('rect', { x: 0, y: 0, width: w, height: h, rx: 8, ry: 8 });
  }
  svgClasses(outline).add('step-outline');
  svgClasses(outline).add(`step-${role || 'step'}`);
  svgAppend(parent, outline);
  const label = (node.metadata && node.metadata.label) || node.id;
  const kind = (this._types[node.type] || {}).label || node.type;
  svgAppend(parent, text(short(label, 22), w / 2, h / 2 - 2, 'step-label'));
  svgAppend(parent, text(short(kind, 26), w / 2, h / 2 + 15, 'step-kind'));
  return outline;
};

StepRenderer.prototype.drawConnection = function(parent, connection) {
  const line = createLine(connection.waypoints, { markerEnd: 'url(#step-arrow)' });
  svgClasses(line).add('step-edge');
  svgAppend(parent, line);
  if (connection.handle) {
    const [a, b] = connection.waypoints.length > 1
      ? [connection.waypoints[0], connection.waypoints[1]] : [connection.waypoints[0], connection.waypoints[0]];
    svgAppend(parent, text(short(connection.handle, 18), (a.x + b.x) / 2, (a.y + b.y) / 2 - 6, 'edge-label'));
  }
  return line;
};

StepRenderer.prototype.getShapePath = function(shape) {
  const { x, y, width: w, height: h } = shape;
  return `M${x},${y}h${w}v${h}h${-w}z`;
};

function text(content, x, y, className) {
  const node = svgCreate('text', { x, y, 'text-anchor': 'middle', 'dominant-baseline': 'middle' });
  svgClasses(node).add(className);
  node.textContent = content;
  return node;
}

function short(value, limit) {
  const s = String(value);
  return s.length > limit ? s.slice(0, limit - 1) + '…' : s;
}

// An arrow head for every connection, defined once per canvas.
export function arrowMarker(canvas) {
  const defs = svgCreate('defs');
  const marker = svgCreate('marker', {
    id: 'step-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto'
  });
  const head = svgCreate('path', { d: 'M0,0 L10,5 L0,10 z' });
  svgClasses(head).add('step-arrow');
  svgAppend(marker, head);
  svgAppend(defs, marker);
  const svg = canvas.getContainer().querySelector('svg');
  svgAppend(svg, defs);
  // Keyboard users can drive the canvas (it takes focus); the outline below is the screen reader's view of the
  // same draft, and says so.
  svgAttr(svg, { role: 'application', 'aria-label': 'Process canvas', 'aria-describedby': 'canvas-help' });
}
