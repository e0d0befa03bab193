// The palette (every registered node type, from the registry), the context pad (one connect entry per exit
// of the step, named by its outcome or handle; remove) and the rules (what may connect to what).
import inherits from 'inherits-browser';
import RuleProvider from 'diagram-js/lib/features/rules/RuleProvider';

export const STEP = { width: 168, height: 60 };

export function PaletteProvider(palette, create, elementFactory, lassoTool, handTool, designerConfig, drafts) {
  this._create = create;
  this._factory = elementFactory;
  this._lasso = lassoTool;
  this._hand = handTool;
  this._config = designerConfig;
  this._drafts = drafts;
  palette.registerProvider(this);
}
PaletteProvider.$inject = ['palette', 'create', 'elementFactory', 'lassoTool', 'handTool', 'designerConfig',
  'drafts'];

PaletteProvider.prototype.getPaletteEntries = function() {
  const entries = {
    'hand-tool': tool('Move the canvas', 'Hand', (event) => this._hand.activateHand(event)),
    'lasso-tool': tool('Select several steps', 'Select', (event) => this._lasso.activateSelection(event)),
    'tool-separator': { group: 'tools', separator: true }
  };
  for (const type of this._config.types) {
    if (type.role === 'start') continue;  // a process has one start; it is there from the beginning
    const make = (event) => {
      const node = this._drafts.newNode(type.name, type.label);
      const shape = this._factory.createShape({ id: node.id, businessObject: node, ...STEP });
      this._create.start(event, shape);
    };
    entries[`create-${type.name}`] = {
      group: type.group,
      html: `<button type="button" class="entry palette-entry-text" draggable="true" title="${escape(type.summary)}">${escape(type.label)}</button>`,
      title: `Add: ${type.label}`,
      action: { click: make, dragstart: make }
    };
  }
  return entries;
};

function tool(title, label, activate) {
  return {
    group: 'tools',
    html: `<button type="button" class="entry palette-entry-text tool">${label}</button>`,
    title,
    action: { click: activate }
  };
}

export function ContextPadProvider(contextPad, connect, modeling, drafts) {
  this._connect = connect;
  this._modeling = modeling;
  this._drafts = drafts;
  contextPad.registerProvider(this);
}
ContextPadProvider.$inject = ['contextPad', 'connect', 'modeling', 'drafts'];

ContextPadProvider.prototype.getContextPadEntries = function(element) {
  if (element.waypoints) {
    return { remove: removeEntry(() => this._modeling.removeElements([element])) };
  }
  const entries = {};
  for (const handle of this._drafts.exitsOf(element.id)) {
    const name = handle === null ? 'goes on' : handle;
    const start = (event, autoActivate) => {
      this._drafts.pendingHandle = handle;
      this._connect.start(event, element, autoActivate);
    };
    entries[`connect-${name}`] = {
      group: 'connect',
      html: `<button type="button" class="entry pad-entry" draggable="true" title="Connect “${escape(name)}” to another step">${escape(name)} →</button>`,
      title: `Connect “${name}” to another step`,
      action: { click: (event) => start(event, true), dragstart: (event) => start(event) }
    };
  }
  if (this._drafts.roleOf(element) !== 'start') {
    entries.remove = removeEntry(() => this._modeling.removeElements([element]));
  }
  return entries;
};

function removeEntry(remove) {
  return {
    group: 'edit',
    html: '<button type="button" class="entry pad-entry remove" title="Remove">✕ remove</button>',
    title: 'Remove',
    action: { click: remove }
  };
}

export function StepRules(eventBus, drafts) {
  this._drafts = drafts;  // before RuleProvider's constructor calls init()
  RuleProvider.call(this, eventBus);
}
inherits(StepRules, RuleProvider);
StepRules.$inject = ['eventBus', 'drafts'];

StepRules.prototype.init = function() {
  const drafts = this._drafts;
  this.addRule('connection.create', (context) => {
    const { source, target } = context;
    if (!source || !target || source === target || source.waypoints || target.waypoints) return false;
    if (drafts.roleOf(target) === 'start' || drafts.roleOf(source) === 'end') return false;
    return { handle: drafts.takeHandle(source) };
  });
  this.addRule('connection.reconnect', () => false);
  this.addRule('shape.create', (context) => !context.target || !context.target.parent);
  this.addRule('elements.move', (context) => !context.target || !context.target.parent);
  this.addRule('shape.resize', () => false);
  this.addRule('elements.delete', (context) => context.elements.filter((e) => drafts.roleOf(e) !== 'start'));
};

export function escape(value) {
  return String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
