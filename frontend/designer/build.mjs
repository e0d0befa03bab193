// Builds the designer's canvas into bpm/web/static/designer (committed; .ci/run rebuilds it from the lockfile
// and fails if the result differs). No CDN at run time: the bundle, its stylesheet and licences live there.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', 'bpm', 'web', 'static', 'designer');
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [join(here, 'src', 'index.js')],
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'none',
  outfile: join(out, 'designer.js'),
  logLevel: 'warning'
});

copyFileSync(join(here, 'node_modules', 'diagram-js', 'assets', 'diagram-js.css'), join(out, 'diagram-js.css'));

const licences = [
  ['diagram-js', 'diagram-js/LICENSE'],
  ['@dagrejs/dagre', '@dagrejs/dagre/LICENSE'],
  ['didi', 'didi/LICENSE'],
  ['min-dash', 'min-dash/LICENSE'],
  ['min-dom', 'min-dom/LICENSE'],
  ['tiny-svg', 'tiny-svg/LICENSE'],
  ['object-refs', 'object-refs/LICENSE'],
  ['path-intersection', 'path-intersection/LICENSE'],
  ['inherits-browser', 'inherits-browser/LICENSE'],
  ['clsx', 'clsx/license'],
  ['@bpmn-io/diagram-js-ui', '@bpmn-io/diagram-js-ui/LICENSE'],
  ['preact', 'preact/LICENSE'],
  ['htm', 'htm/LICENSE'],
  ['domify', 'domify/license']
];
const text = licences.map(([name, path]) => {
  const pkg = JSON.parse(readFileSync(join(here, 'node_modules', dirname(path), 'package.json'), 'utf8'));
  return `== ${name} ${pkg.version} (${pkg.license}) ==\n\n${readFileSync(join(here, 'node_modules', path), 'utf8').trim()}\n`;
}).join('\n');
writeFileSync(join(out, 'LICENSES.txt'), `The designer's canvas bundles these packages (from npm, pinned by\nfrontend/designer/package-lock.json):\n\n${text}`);
