// Evaluates Jexl expressions with the real jexl@2.3.0, one JSON request per line on stdin,
// one JSON answer per line on stdout. Values are tagged so that what JSON cannot say
// (undefined, NaN, -0, Infinity, functions) survives the trip: numbers travel as the text
// JavaScript prints for them. Used as the oracle by tests/unit/engine/test_jexl_differential.py.
'use strict';
const readline = require('readline');
const jexl = require('jexl');

function encode(value) {
  if (value === undefined) return { $: 'undefined' };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return { n: Object.is(value, -0) ? '-0' : String(value) };
  if (typeof value === 'function') return { $: 'function' };
  if (Array.isArray(value)) return value.map(encode);
  if (typeof value === 'object') {
    const out = {};
    for (const key of Object.keys(value)) out[key] = encode(value[key]);
    return { o: out };
  }
  return { $: typeof value };
}

function answer(request) {
  let value;
  try {
    value = jexl.evalSync(request.expr, request.context || {});
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
  let text;
  try {
    text = String(value ?? '');
  } catch (error) {
    text = null;
  }
  return { ok: encode(value), text };
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const request = JSON.parse(line);
  process.stdout.write(JSON.stringify(answer(request)) + '\n');
});
