// The draft behind the canvas: drawn from the definition (Refluxo JSON), read back from the canvas after
// every change, saved with its revision (If-Match), undone and redone as whole drafts (so a change made in the
// properties panel or the outline undoes like one made on the canvas), and copied and pasted as steps.
import { STEP } from './providers.js';
import { autoLayout, waypointsBetween } from './layout.js';

const SAVE_DELAY_MS = 400;

export default function Drafts(eventBus, canvas, elementFactory, elementRegistry, selection, commandStack,
  designerConfig, injector) {
  this._bus = eventBus;
  this._modeling = () => injector.get('modeling');  // modeling needs the rules, which need us: asked for late
  this._commands = commandStack;
  this._canvas = canvas;
  this._factory = elementFactory;
  this._registry = elementRegistry;
  this._selection = selection;
  this._config = designerConfig;
  this.body = designerConfig.definition;
  this.revision = designerConfig.revision;
  this.exits = designerConfig.exits || {};
  this.problems = designerConfig.problems || [];
  this.undoStack = [];
  this.redoStack = [];
  this.clipboard = null;
  this.pendingHandle = undefined;
  this._importing = false;
  this._timer = null;
  this._saving = null;
  this._saveAgain = false;
  eventBus.on('commandStack.changed', () => this._changedOnCanvas());
  eventBus.on('connect.cleanup', () => { this.pendingHandle = undefined; });
  // An exit leads to one step: a new connection by an exit replaces the one that exit had.
  eventBus.on('commandStack.connection.create.postExecute', ({ context }) => {
    const made = context.connection;
    const replaced = (made.source.outgoing || []).filter(
      (other) => other !== made && (other.handle ?? null) === (made.handle ?? null));
    if (replaced.length) this._modeling().removeElements(replaced);
  });
}
Drafts.$inject = ['eventBus', 'canvas', 'elementFactory', 'elementRegistry', 'selection', 'commandStack',
  'designerConfig', 'injector'];

// Drawing -----------------------------------------------------------------------------------------------------

Drafts.prototype.draw = function(body) {
  this._importing = true;
  try {
    const root = this._canvas.getRootElement();
    for (const element of [...this._registry.getAll()]) {
      if (element !== root && element.waypoints) this._canvas.removeConnection(element);
    }
    for (const element of [...this._registry.getAll()]) {
      if (element !== root && !element.waypoints && !element.labelTarget) this._canvas.removeShape(element);
    }
    const positions = needsLayout(body) ? autoLayout(body.nodes || [], body.edges || [], STEP) : null;
    const shapes = {};
    for (const node of body.nodes || []) {
      const at = positions ? positions[node.id] : positionOf(node);
      shapes[node.id] = this._canvas.addShape(this._factory.createShape({
        id: node.id, businessObject: node, x: at.x, y: at.y, ...STEP
      }), root);
    }
    for (const edge of body.edges || []) {
      const source = shapes[edge.source], target = shapes[edge.target];
      if (!source || !target) continue;
      this._canvas.addConnection(this._factory.createConnection({
        id: `edge:${edge.id}`, businessObject: edge, handle: edge.sourceHandle ?? null, source, target,
        waypoints: waypointsBetween(source, target)
      }), root);
    }
    this._commands.clear();  // the canvas's own history: ours is of whole drafts
  } finally {
    this._importing = false;
  }
  this.markProblems();
};

function needsLayout(body) {
  return (body.nodes || []).some((node) => !(node.metadata && node.metadata.position));
}

function positionOf(node) {
  const at = (node.metadata && node.metadata.position) || {};
  return { x: Math.round(Number(at.x) || 0), y: Math.round(Number(at.y) || 0) };
}

// The canvas read back as a definition: nodes keep their data; positions are the shapes' top-left corners.
Drafts.prototype.read = function() {
  const nodes = [], edges = [];
  for (const element of this._registry.getAll()) {
    if (element.labelTarget || element === this._canvas.getRootElement()) continue;
    if (element.waypoints) {
      const known = element.businessObject && element.businessObject.id ? element.businessObject : null;
      edges.push({
        id: known && known.source === element.source.id && known.target === element.target.id
          ? known.id : this._edgeId(element, edges),
        source: element.source.id, target: element.target.id, sourceHandle: element.handle ?? null
      });
    } else if (element.businessObject) {
      const node = structuredClone(element.businessObject);
      node.metadata = { ...(node.metadata || {}), position: { x: Math.round(element.x), y: Math.round(element.y) } };
      nodes.push(node);
    }
  }
  const order = new Map((this.body.nodes || []).map((node, i) => [node.id, i]));
  nodes.sort((a, b) => (order.get(a.id) ?? 1e9) - (order.get(b.id) ?? 1e9));
  const edgeOrder = new Map((this.body.edges || []).map((edge, i) => [edge.id, i]));
  edges.sort((a, b) => (edgeOrder.get(a.id) ?? 1e9) - (edgeOrder.get(b.id) ?? 1e9));
  return { ...this.body, nodes, edges };
};

Drafts.prototype._edgeId = function(connection, taken) {
  const used = new Set([...taken.map((e) => e.id), ...(this.body.edges || []).map((e) => e.id)]);
  const stem = connection.handle ? `${connection.source.id}-${connection.handle}-${connection.target.id}`
    : `${connection.source.id}-${connection.target.id}`;
  let id = stem, n = 2;
  while (used.has(id)) id = `${stem}-${n++}`;
  connection.businessObject = { id, source: connection.source.id, target: connection.target.id };
  return id;
};

// What a step can leave by, as the server's registry says (null: only a run can tell; then what is drawn).
Drafts.prototype.exitsOf = function(nodeId) {
  const known = this.exits[nodeId];
  if (Array.isArray(known)) return known;
  const drawn = (this.body.edges || []).filter((e) => e.source === nodeId).map((e) => e.sourceHandle ?? null);
  return drawn.length ? [...new Set(drawn)] : [null];
};

Drafts.prototype.roleOf = function(element) {
  const node = element && element.businessObject;
  const type = node && this._config.typesByName[node.type];
  return type ? type.role : null;
};

// The handle a new connection from ``source`` takes: the exit chosen on the context pad, else the first exit
// no connection leaves by yet.
Drafts.prototype.takeHandle = function(source) {
  if (this.pendingHandle !== undefined) {
    const chosen = this.pendingHandle;
    return chosen;
  }
  const used = new Set((source.outgoing || []).map((c) => c.handle ?? null));
  const free = this.exitsOf(source.id).find((h) => !used.has(h));
  return free === undefined ? this.exitsOf(source.id)[0] : free;
};

Drafts.prototype.newNode = function(type, label) {
  const taken = new Set(this._registry.getAll().map((e) => e.id));
  const stem = label.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'step';
  let id = stem, n = 2;
  while (taken.has(id)) id = `${stem}_${n++}`;
  const starter = (this._config.typesByName[type] || {}).starter || {};
  return { id, type, data: structuredClone(starter), metadata: { label } };
};

// Changes --------------------------------------------------------------------------------------------------------

Drafts.prototype._changedOnCanvas = function() {
  if (this._importing) return;
  this.pendingHandle = undefined;
  const body = this.read();
  if (JSON.stringify(body) === JSON.stringify(this.body)) return;
  this.change(body, { drawn: true });
};

// A new draft: kept for undo, drawn (unless the canvas made it), saved a moment later.
Drafts.prototype.change = function(body, { drawn = false, undoable = true } = {}) {
  if (undoable) {
    this.undoStack.push(this.body);
    this.redoStack = [];
  }
  this.body = body;
  if (!drawn) this.draw(body);
  this._scheduleSave();
  this._bus.fire('drafts.changed', { body });
};

Drafts.prototype.undo = function() {
  if (!this.undoStack.length) return;
  this.redoStack.push(this.body);
  this.change(this.undoStack.pop(), { undoable: false });
};

Drafts.prototype.redo = function() {
  if (!this.redoStack.length) return;
  this.undoStack.push(this.body);
  this.change(this.redoStack.pop(), { undoable: false });
};

Drafts.prototype.layout = function() {
  const positions = autoLayout(this.body.nodes || [], this.body.edges || [], STEP);
  const body = structuredClone(this.body);
  for (const node of body.nodes) {
    node.metadata = { ...(node.metadata || {}), position: positions[node.id] };
  }
  this.change(body);
};

Drafts.prototype.copy = function() {
  const ids = new Set(this._selection.get().filter((e) => !e.waypoints && this.roleOf(e) !== 'start').map((e) => e.id));
  if (!ids.size) return;
  this.clipboard = {
    nodes: structuredClone((this.body.nodes || []).filter((n) => ids.has(n.id))),
    edges: structuredClone((this.body.edges || []).filter((e) => ids.has(e.source) && ids.has(e.target)))
  };
  this._bus.fire('drafts.status', { text: `Copied ${ids.size} step${ids.size === 1 ? '' : 's'}.` });
};

// Pasted steps get new ids (and their connections among themselves), 40 px down and right of the originals.
Drafts.prototype.paste = function() {
  if (!this.clipboard) return;
  const body = structuredClone(this.body);
  const taken = new Set(body.nodes.map((n) => n.id));
  const renamed = {};
  for (const node of this.clipboard.nodes) {
    let id = `${node.id}_copy`, n = 2;
    while (taken.has(id)) id = `${node.id}_copy${n++}`;
    taken.add(id);
    renamed[node.id] = id;
    const at = positionOf(node);
    body.nodes.push({ ...structuredClone(node), id, metadata: {
      ...(node.metadata || {}), label: `${(node.metadata && node.metadata.label) || node.id} (copy)`,
      position: { x: at.x + 40, y: at.y + 40 } } });
  }
  const edgeIds = new Set(body.edges.map((e) => e.id));
  for (const edge of this.clipboard.edges) {
    let id = `${edge.id}_copy`, n = 2;
    while (edgeIds.has(id)) id = `${edge.id}_copy${n++}`;
    edgeIds.add(id);
    body.edges.push({ ...edge, id, source: renamed[edge.source], target: renamed[edge.target] });
  }
  this.change(body);
  this._selection.select(Object.values(renamed).map((id) => this._registry.get(id)).filter(Boolean));
};

// Saving -----------------------------------------------------------------------------------------------------

Drafts.prototype._scheduleSave = function() {
  clearTimeout(this._timer);
  this._bus.fire('drafts.status', { text: 'Saving…' });
  this._timer = setTimeout(() => {
    this._timer = null;
    this.save();
  }, SAVE_DELAY_MS);
};

Drafts.prototype.save = async function({ overwrite = false } = {}) {
  if (this._saving) {
    this._saveAgain = true;
    return this._saving;
  }
  const sent = this.body;
  this._saving = (async () => {
    const response = await fetch(this._config.urls.save, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': this._config.csrf, Accept: 'application/json' },
      body: JSON.stringify({ revision: this.revision, definition: sent, overwrite })
    });
    const answer = await response.json().catch(() => ({}));
    if (response.ok) {
      this.revision = answer.revision;
      this.exits = answer.exits || {};
      this.problems = answer.problems || [];
      this.markProblems();
      this._bus.fire('drafts.saved', answer);
    } else if (response.status === 412) {
      this._bus.fire('drafts.conflict', { mine: sent, message: answer.message });
    } else {
      this._bus.fire('drafts.refused', answer);
    }
  })().finally(() => {
    this._saving = null;
    if (this._saveAgain) {
      this._saveAgain = false;
      this.save();
    }
  });
  return this._saving;
};

// Save now what waits to be saved (before the panel of a step just drawn is asked for).
Drafts.prototype.flush = async function() {
  if (this._timer) {
    clearTimeout(this._timer);
    this._timer = null;
    await this.save();
  } else if (this._saving) {
    await this._saving;
  }
};

// The server's draft replaces ours (after a conflict, or a change made in the panel or the outline).
Drafts.prototype.reload = async function({ undoable = true } = {}) {
  const response = await fetch(this._config.urls.draft, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  const answer = await response.json();
  this.revision = answer.revision;
  this.exits = answer.exits || {};
  this.problems = answer.problems || [];
  if (undoable) this.undoStack.push(this.body);
  this.body = answer.definition;
  this.draw(this.body);
  this._bus.fire('drafts.saved', answer);
  return answer;
};

// A test run's path and where it waits, marked on the steps (and the connections between steps on the path).
Drafts.prototype.showRun = function(path, waiting) {
  for (const element of this._registry.getAll()) {
    this._canvas.removeMarker(element, 'on-path');
    this._canvas.removeMarker(element, 'waits-here');
  }
  const visited = new Set(path);
  for (const id of visited) {
    const element = this._registry.get(id);
    if (element) this._canvas.addMarker(element, 'on-path');
  }
  for (let i = 1; i < path.length; i++) {
    const edge = this._registry.getAll().find((e) => e.waypoints && e.source.id === path[i - 1] && e.target.id === path[i]);
    if (edge) this._canvas.addMarker(edge, 'on-path');
  }
  for (const id of waiting) {
    const element = this._registry.get(id);
    if (element) this._canvas.addMarker(element, 'waits-here');
  }
};

Drafts.prototype.showDiff = function(diff) {
  for (const element of this._registry.getAll()) {
    this._canvas.removeMarker(element, 'diff-added');
    this._canvas.removeMarker(element, 'diff-changed');
  }
  if (!diff) return;
  const mark = (ids, prefix, marker) => {
    for (const id of ids) {
      const element = this._registry.get(prefix + id);
      if (element) this._canvas.addMarker(element, marker);
    }
  };
  mark(diff.added, '', 'diff-added');
  mark(diff.changed, '', 'diff-changed');
  mark(diff.edgesAdded, 'edge:', 'diff-added');
  mark(diff.edgesChanged, 'edge:', 'diff-changed');
};

// Problems ------------------------------------------------------------------------------------------------------

Drafts.prototype.markProblems = function() {
  for (const element of this._registry.getAll()) {
    this._canvas.removeMarker(element, 'has-error');
    this._canvas.removeMarker(element, 'has-warning');
  }
  const worst = new Map();  // element id -> error | warning (notes are for running elsewhere: not marked)
  for (const problem of this.problems) {
    if (problem.severity !== 'error' && problem.severity !== 'warning') continue;
    const id = problem.node || (problem.edge ? `edge:${problem.edge}` : null);
    if (id && worst.get(id) !== 'error') worst.set(id, problem.severity);
  }
  for (const [id, severity] of worst) {
    const element = this._registry.get(id);
    if (element) this._canvas.addMarker(element, severity === 'error' ? 'has-error' : 'has-warning');
  }
};
