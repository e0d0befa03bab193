// The designer's canvas: a view of the draft that the outline and the properties panel edit too.
// Everything it needs comes in the page (#designer-data, JSON); everything it changes goes to the server as
// a draft save with the draft's revision. Pages work without it: this only adds the canvas.
import Diagram from 'diagram-js';
import ConnectModule from 'diagram-js/lib/features/connect';
import ContextPadModule from 'diagram-js/lib/features/context-pad';
import CreateModule from 'diagram-js/lib/features/create';
import EditorActionsModule from 'diagram-js/lib/features/editor-actions';
import HandToolModule from 'diagram-js/lib/features/hand-tool';
import KeyboardModule from 'diagram-js/lib/features/keyboard';
import KeyboardMoveSelectionModule from 'diagram-js/lib/features/keyboard-move-selection';
import LassoToolModule from 'diagram-js/lib/features/lasso-tool';
import ModelingModule from 'diagram-js/lib/features/modeling';
import MoveModule from 'diagram-js/lib/features/move';
import OutlineModule from 'diagram-js/lib/features/outline';
import PaletteModule from 'diagram-js/lib/features/palette';
import RulesModule from 'diagram-js/lib/features/rules';
import SelectionModule from 'diagram-js/lib/features/selection';
import KeyboardMoveModule from 'diagram-js/lib/navigation/keyboard-move';
import MoveCanvasModule from 'diagram-js/lib/navigation/movecanvas';
import ZoomScrollModule from 'diagram-js/lib/navigation/zoomscroll';

import Drafts from './drafts.js';
import { StepLayouter } from './layout.js';
import { ContextPadProvider, PaletteProvider, StepRules, escape } from './providers.js';
import StepRenderer, { arrowMarker } from './renderer.js';

// Our undo and redo are of whole drafts; copy and paste copy steps with their data. Registered as the editor
// actions begin, so that the keyboard bindings (Ctrl+Z, Ctrl+C, Delete…) find them.
function StepActions(eventBus, drafts, selection, modeling) {
  eventBus.on('editorActions.init', ({ editorActions }) => {
    for (const name of ['undo', 'redo', 'copy', 'paste', 'removeSelection']) {
      if (editorActions.isRegistered(name)) editorActions.unregister(name);
    }
    editorActions.register({
      undo: () => drafts.undo(), redo: () => drafts.redo(), copy: () => drafts.copy(), paste: () => drafts.paste(),
      removeSelection: () => {
        const removable = selection.get().filter((e) => drafts.roleOf(e) !== 'start');
        if (removable.length) modeling.removeElements(removable);
      }
    });
  });
}
StepActions.$inject = ['eventBus', 'drafts', 'selection', 'modeling'];

function boot() {
  const data = document.getElementById('designer-data');
  const container = document.getElementById('designer-canvas');
  if (!data || !container) return;
  const config = JSON.parse(data.textContent);
  config.typesByName = Object.fromEntries(config.types.map((t) => [t.name, t]));
  container.replaceChildren();
  container.classList.add('live');
  const diagram = new Diagram({
    canvas: { container },
    keyboard: { bind: true },
    modules: [
      ConnectModule, ContextPadModule, CreateModule, EditorActionsModule, HandToolModule, KeyboardModule,
      KeyboardMoveModule, KeyboardMoveSelectionModule, LassoToolModule, ModelingModule, MoveCanvasModule,
      MoveModule, OutlineModule, PaletteModule, RulesModule, SelectionModule, ZoomScrollModule,
      {
        __init__: ['stepRenderer', 'stepPalette', 'stepContextPad', 'stepRules', 'drafts', 'stepActions'],
        stepActions: ['type', StepActions],
        designerConfig: ['value', config],
        layouter: ['type', StepLayouter],
        stepRenderer: ['type', StepRenderer],
        stepPalette: ['type', PaletteProvider],
        stepContextPad: ['type', ContextPadProvider],
        stepRules: ['type', StepRules],
        drafts: ['type', Drafts]
      }
    ]
  });
  const canvas = diagram.get('canvas');
  const drafts = diagram.get('drafts');
  const bus = diagram.get('eventBus');
  canvas.setRootElement(diagram.get('elementFactory').createRoot());
  arrowMarker(canvas);
  drafts.draw(drafts.body);
  fit(canvas);
  // After a connection or a new step is made, keys go to the canvas again (the pad's button that began it is
  // gone), so Ctrl+Z undoes it at once.
  bus.on(['connect.cleanup', 'create.cleanup'], () => {
    const active = document.activeElement;
    if (!active || active === document.body || container.contains(active)) canvas.focus();
  });


  wireToolbar(diagram, drafts, canvas);
  wireTestRun(drafts);
  wireDiff(config, drafts, canvas);
  wirePanel(bus, config, drafts);
  wireStatus(bus, drafts, config);
}

// The whole process in view, clear of the palette on the left, never larger than life.
function fit(canvas) {
  const container = canvas.getContainer();
  const width = container.clientWidth, height = container.clientHeight;
  const palette = container.querySelector('.djs-palette');
  const left = (palette ? palette.offsetWidth : 0) + 24, pad = 24;
  const inner = canvas.viewbox().inner;
  if (!inner.width || !inner.height) return;
  const scale = Math.min(1, (width - left - pad) / inner.width, (height - 2 * pad) / inner.height);
  canvas.viewbox({
    x: inner.x - left / scale, y: inner.y - (height / scale - inner.height) / 2,
    width: width / scale, height: height / scale
  });
}

function wireToolbar(diagram, drafts, canvas) {
  const act = {
    undo: () => drafts.undo(), redo: () => drafts.redo(),
    'zoom-in': () => canvas.zoom(canvas.zoom() * 1.2), 'zoom-out': () => canvas.zoom(canvas.zoom() / 1.2),
    fit: () => fit(canvas), layout: () => { drafts.layout(); fit(canvas); },
    copy: () => drafts.copy(), paste: () => drafts.paste(),
    remove: () => diagram.get('editorActions').trigger('removeSelection')
  };
  const toolbar = document.getElementById('canvas-toolbar');
  if (!toolbar) return;
  toolbar.hidden = false;
  toolbar.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-act]');
    if (button && act[button.dataset.act]) act[button.dataset.act]();
  });
}

// Selecting one step loads its properties (the server's panel, the same one the outline opens) beside the canvas.
function wirePanel(bus, config, drafts) {
  const panel = document.getElementById('properties');
  if (!panel) return;
  bus.on('selection.changed', async ({ newSelection }) => {
    const steps = newSelection.filter((e) => !e.waypoints);
    if (steps.length !== 1 || !window.htmx) return;
    await drafts.flush();  // a step just drawn is on the server before its panel is asked for
    const url = config.urls.panel.replace('__node__', encodeURIComponent(steps[0].id));
    window.htmx.ajax('GET', url, { target: '#properties', swap: 'innerHTML' });
  });
  // A change saved by the panel or the outline: the canvas takes the server's draft (undoable like any change).
  document.body.addEventListener('draftSaved', () => drafts.reload());
  bus.on('drafts.saved', (answer) => {
    for (const input of document.querySelectorAll('input[name="revision"]')) input.value = answer.revision ?? '';
    for (const [id, html] of Object.entries(answer.fragments || {})) {
      const target = document.getElementById(id);
      if (target) {
        target.innerHTML = html;
        if (window.htmx) window.htmx.process(target);
      }
    }
  });
}

// The publish preview's diff, drawn on the canvas: steps and connections added or changed since the published
// version (removed ones are listed beside it: they are not on this canvas).
function wireDiff(config, drafts, canvas) {
  const button = document.getElementById('show-diff');
  if (!button || !config.diff) return;
  button.hidden = false;
  button.addEventListener('click', () => {
    const on = button.getAttribute('aria-pressed') !== 'true';
    drafts.showDiff(on ? config.diff : null);
    button.setAttribute('aria-pressed', String(on));
    button.textContent = on ? 'Hide the changes on the canvas' : 'Show the changes on the canvas';
    if (on) canvas.getContainer().scrollIntoView({ block: 'nearest' });
  });
}

// A test run below the canvas lights up the path it took and the steps it waits at.
function wireTestRun(drafts) {
  document.body.addEventListener('htmx:afterSwap', (event) => {
    const state = document.getElementById('try-state');
    if (!state || !event.target.contains(state)) return;
    drafts.showRun(JSON.parse(state.dataset.path || '[]'), JSON.parse(state.dataset.waiting || '[]'));
  });
}

function wireStatus(bus, drafts, config) {
  const status = document.getElementById('save-status');
  const conflict = document.getElementById('save-conflict');
  const say = (text) => { if (status) status.textContent = text; };
  bus.on('drafts.status', ({ text }) => say(text));
  bus.on('drafts.saved', (answer) => {
    const errors = (answer.problems || []).filter((p) => p.severity === 'error').length;
    say(`Saved as draft revision ${answer.revision}` + (errors ? ` · ${errors} problem${errors === 1 ? '' : 's'} to fix before publishing` : ''));
    if (conflict) conflict.hidden = true;
  });
  bus.on('drafts.refused', (answer) => {
    const details = Object.entries(answer.errors || {}).map(([path, messages]) => `${path}: ${messages.join('; ')}`);
    say(`Not saved: ${answer.message || 'the server refused the draft'}${details.length ? ' (' + details.join(' · ') + ')' : ''}`);
  });
  bus.on('drafts.conflict', async ({ mine }) => {
    if (!conflict) return;
    const response = await fetch(config.urls.draft, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    const theirs = await response.json();
    conflict.querySelector('[data-what]').innerHTML = whatChanged(mine, theirs.definition);
    conflict.querySelector('[data-who]').textContent = theirs.savedBy ? `${theirs.savedBy} saved revision ${theirs.revision}` : `Revision ${theirs.revision} was saved`;
    conflict.hidden = false;
    conflict.querySelector('button[data-keep="theirs"]').onclick = () => drafts.reload();
    conflict.querySelector('button[data-keep="mine"]').onclick = () => {
      drafts.revision = theirs.revision;
      drafts.save();
    };
    conflict.querySelector('button').focus();
    say('Not saved: someone else saved this draft first.');
  });
}

// The steps that differ between my draft and theirs, in words.
function whatChanged(mine, theirs) {
  const byId = (body) => new Map((body.nodes || []).map((n) => [n.id, n]));
  const a = byId(mine), b = byId(theirs || {});
  const label = (n) => escape((n.metadata && n.metadata.label) || n.id);
  const lines = [];
  for (const [id, node] of b) if (!a.has(id)) lines.push(`they added ${label(node)}`);
  for (const [id, node] of a) if (!b.has(id)) lines.push(`they removed ${label(node)} (or you added it)`);
  for (const [id, node] of a) {
    const other = b.get(id);
    if (other && JSON.stringify(other.data) !== JSON.stringify(node.data)) lines.push(`${label(node)} differs`);
  }
  const edges = (body) => new Set((body.edges || []).map((e) => `${e.source}/${e.sourceHandle ?? ''}/${e.target}`));
  const ea = edges(mine), eb = edges(theirs || {});
  const moved = [...eb].filter((e) => !ea.has(e)).length + [...ea].filter((e) => !eb.has(e)).length;
  if (moved) lines.push(`${moved} connection${moved === 1 ? '' : 's'} differ`);
  return lines.length ? `<ul>${lines.map((l) => `<li>${l}</li>`).join('')}</ul>` : '<p>Only positions differ.</p>';
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
