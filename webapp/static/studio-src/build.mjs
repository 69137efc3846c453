// Build the studio bundle with ONE esbuild command:
//
//   node build.mjs [--outdir DIR]      (default: ../vendor/studio)
//
// writes DIR/studio.js (IIFE, minified, global `SanxiangStudio`),
// DIR/studio.css, DIR/fonts/*, DIR/VERSIONS and DIR/LICENSES.
// The output is deterministic: no timestamps, content hashes only,
// packages sorted by name. check.sh rebuilds and compares.

import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const args = { outdir: path.resolve(here, '..', 'vendor', 'studio') };

  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--outdir') {
      args.outdir = path.resolve(argv[++i]);
    } else {
      throw new Error('unknown argument: ' + argv[i]);
    }
  }

  return args;
}

const { outdir } = parseArgs(process.argv.slice(2));

const OWN = [ 'studio.js', 'studio.css', 'fonts', 'VERSIONS', 'LICENSES' ];

// start from a clean output (only the files this build owns)
fs.mkdirSync(outdir, { recursive: true });
for (const name of OWN) {
  fs.rmSync(path.join(outdir, name), { recursive: true, force: true });
}

// Source patches, applied while bundling (exact matches: a package upgrade
// that changes the patched code fails the build instead of silently
// skipping the patch). They make the bundle run under the app's CSP
// (no eval, no inline style attributes). bpmn.io watermark code
// (PoweredByUtil) is deliberately NOT patched: its licence forbids it.
const PATCHES = [
  {
    // selection-ranges (used by dmn-js) inlines dom-iterator, whose
    // Iterator#compile turns *string* expressions into code with
    // `new Function`. selection-ranges never passes one; replace the
    // branch so the bundle contains no eval at all (asserted below).
    file: /[\\/]selection-ranges[\\/]dist[\\/]index\.js$/,
    replace: [ [
      "return new Function('node', 'Object.freeze(node); return ' + props(expr, 'node.'));",
      "throw new Error('dom-iterator: string expressions are disabled (CSP)');"
    ] ]
  },
  {
    // the properties panel builds its containers from markup with style
    // attributes (blocked by style-src); set the same styles via CSSOM
    file: /[\\/]bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/,
    replace: [
      [
        "this._container = domify('<div style=\"height: 100%\" tabindex=\"-1\" class=\"bio-properties-panel-container\"></div>');",
        "this._container = domify('<div tabindex=\"-1\" class=\"bio-properties-panel-container\"></div>');" +
        " this._container.style.height = '100%';"
      ],
      [
        "this._headerContainer = domify('<div style=\"flex: none; height: auto\" class=\"bio-properties-panel bio-theme-parent bio-properties-panel-header-container\"></div>');",
        "this._headerContainer = domify('<div class=\"bio-properties-panel bio-theme-parent bio-properties-panel-header-container\"></div>');" +
        " this._headerContainer.style.flex = 'none'; this._headerContainer.style.height = 'auto';"
      ]
    ]
  },
  {
    // CodeMirror (FEEL editors of the properties panel and dmn-js) mounts its
    // styles through style-mod, which uses a constructed stylesheet
    // (adoptedStyleSheets) only inside shadow roots and an inline <style>
    // element in documents; the CSP blocks the latter (no nonce). Use the
    // constructed stylesheet for documents too: CSP-compliant, the same
    // rules; they now cascade after the page's stylesheets.
    file: /[\\/]style-mod[\\/]src[\\/]style-mod\.js$/,
    replace: [ [
      'if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {',
      'if (root.adoptedStyleSheets && win.CSSStyleSheet) {'
    ] ]
  },
  {
    // align/distribute popup menu icons: style="a:b" -> SVG presentation
    // attributes a="b" (same rendering, allowed by the CSP)
    file: /[\\/]bpmn-js[\\/]lib[\\/]features[\\/](align|distribute)-elements[\\/]\w+Icons\.js$/,
    transform: source => source.replace(/ style="([^"]*)"/g, (_, css) => css
      .split(';')
      .map(decl => decl.trim())
      .filter(Boolean)
      .map(decl => {
        const [ name, value ] = decl.split(':').map(part => part.trim());

        return ' ' + name + '="' + value + '"';
      })
      .join(''))
  }
];

const patchPlugin = {
  name: 'csp-patches',
  setup(build) {
    for (const patch of PATCHES) {
      build.onLoad({ filter: patch.file }, async args => {
        let source = await fs.promises.readFile(args.path, 'utf8');

        for (const [ from, to ] of patch.replace || []) {
          if (!source.includes(from)) {
            throw new Error('csp-patches: expected code not found in ' + args.path + ': ' + from);
          }
          source = source.split(from).join(to);
        }

        if (patch.transform) {
          const patched = patch.transform(source);

          if (patched === source) {
            throw new Error('csp-patches: transform changed nothing in ' + args.path);
          }
          source = patched;
        }

        return { contents: source, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    }
  }
};

const banner = '/*! SanxiangStudio: bpmn-js, bpmn-js-properties-panel, dmn-js and their dependencies; ' +
  'see VERSIONS and LICENSES next to this file */';

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: { studio: 'src/index.js' },
  outdir,
  bundle: true,
  format: 'iife',
  globalName: 'SanxiangStudio',
  platform: 'browser',
  target: [ 'es2020' ],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'ascii',
  banner: { js: banner },
  define: { 'process.env.NODE_ENV': '"production"' },
  loader: {
    '.woff': 'file',
    '.woff2': 'file',
    '.ttf': 'file',
    '.eot': 'file',
    '.svg': 'file'
  },
  assetNames: 'fonts/[name]-[hash]',
  plugins: [ patchPlugin ],
  metafile: true,
  logLevel: 'warning'
});

// ---- the CSP forbids eval: fail the build if any slipped in ----

const js = fs.readFileSync(path.join(outdir, 'studio.js'), 'utf8');
const evalLike = js.match(/new Function\b|(^|[^\w$.])Function\(|[^.\w$]eval\(|setTimeout\(\s*["'`]|setInterval\(\s*["'`]/g);

if (evalLike) {
  throw new Error('studio.js contains eval-like code: ' + Array.from(new Set(evalLike)).join(', '));
}

// ---- VERSIONS and LICENSES from the files that went into the bundle ----

const nodeModules = path.join(here, 'node_modules');

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return null;
  }
}

// the nearest enclosing directory with a public package.json (name + version)
function packageOf(input) {
  let dir = path.dirname(path.resolve(here, input));

  while (dir.startsWith(nodeModules + path.sep)) {
    const pkg = readJson(path.join(dir, 'package.json'));

    if (pkg && pkg.name && pkg.version && !pkg.private) {
      return { dir, pkg };
    }

    dir = path.dirname(dir);
  }

  return null;
}

const packages = new Map();

for (const input of Object.keys(result.metafile.inputs)) {
  const found = packageOf(input);

  if (found && !packages.has(found.dir)) {
    packages.set(found.dir, found);
  }
}

function outerPackage(dir) {
  // node_modules/<name or @scope/name>/... -> the top-level package that ships this copy
  const rel = path.relative(nodeModules, dir).split(path.sep);
  const parts = rel[0].startsWith('@') ? rel.slice(0, 2) : rel.slice(0, 1);
  const nested = rel.slice(parts.length);

  return nested.length && nested[0] !== 'node_modules' ? parts.join('/') : null;
}

const list = Array.from(packages.values()).map(({ dir, pkg }) => ({
  dir,
  name: pkg.name,
  version: pkg.version,
  license: typeof pkg.license === 'string' ? pkg.license : (pkg.license && pkg.license.type) || 'UNKNOWN',
  author: pkg.author,
  shippedIn: outerPackage(dir)
}));

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

list.sort((a, b) => cmp(a.name, b.name) || cmp(a.version, b.version) || cmp(a.dir, b.dir));

const versions = list.map(p =>
  p.name + ' ' + p.version + ' ' + p.license + (p.shippedIn ? ' (copy shipped inside ' + p.shippedIn + ')' : '')
);

const esbuildVersion = readJson(path.join(nodeModules, 'esbuild', 'package.json')).version;

fs.writeFileSync(
  path.join(outdir, 'VERSIONS'),
  '# Packages bundled into studio.js / studio.css (built with esbuild ' + esbuildVersion + ')\n' +
  versions.join('\n') + '\n'
);

function licenseText(dir) {
  const files = fs.readdirSync(dir)
    .filter(f => /^(licen[cs]e|copying)([-.][\w.-]*)?$/i.test(f))
    .sort();

  return files.map(f => fs.readFileSync(path.join(dir, f), 'utf8').replace(/\r\n/g, '\n').trim());
}

const MIT_TEXT = `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;

// a package without a licence file: the licence its package.json declares
function fallbackLicense(p) {
  const note = 'The package ships no licence file; its package.json declares the licence "' + p.license + '"';

  if (p.license !== 'MIT') {
    return note + '.';
  }

  const author = typeof p.author === 'string' ? p.author : (p.author && p.author.name) || 'its authors';

  return note + ' and the author "' + author + '". MIT licence text:\n\n' +
    'Copyright (c) ' + author + '\n\n' + MIT_TEXT;
}

const sections = list.map(p => {
  const texts = licenseText(p.dir);
  const header = p.name + ' ' + p.version + ' (' + p.license + ')' +
    (p.shippedIn ? ', copy shipped inside ' + p.shippedIn : '');

  const body = texts.length ? texts.join('\n\n') : fallbackLicense(p);

  return '='.repeat(78) + '\n' + header + '\n' + '='.repeat(78) + '\n\n' + body + '\n';
});

fs.writeFileSync(
  path.join(outdir, 'LICENSES'),
  'Licences of the packages bundled into studio.js / studio.css\n\n' + sections.join('\n')
);

// ---- summary ----

for (const [ file, info ] of Object.entries(result.metafile.outputs).sort(([ a ], [ b ]) => cmp(a, b))) {
  console.log(path.relative(here, path.resolve(here, file)).padEnd(60) + ' ' + info.bytes + ' bytes');
}
console.log(list.length + ' packages -> VERSIONS, LICENSES');
