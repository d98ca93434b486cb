/**
 * The layering rule (as VS Code's code-layering): each room of the engine may import only the
 * rooms below it, so data flows one way. docs/architecture.md draws the same picture; keep the
 * two in step. A room not listed here (tests, benchmarks, scripts) may import anything.
 */
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Room → the rooms it may import (besides itself). Lowest first. */
export const LAYERS = {
  'main/util': [],
  'main/contract': ['main/util'],
  'main/onnx': ['main/util'],
  'main/index': ['main/util', 'main/onnx'],
  'main/db': ['main/util', 'main/contract', 'main/index'],
  'main/models': ['main/util', 'main/contract', 'main/onnx'],
  'main/encoders': ['main/util', 'main/contract', 'main/onnx', 'main/models'],
  'main/ingest': ['main/util', 'main/contract', 'main/db'],
  'main/embed': ['main/util', 'main/contract', 'main/db', 'main/index', 'main/models', 'main/encoders', 'main/ingest'],
  // Faces found and grouped into people: a stage beside embedding.
  'main/faces': ['main/util', 'main/contract', 'main/db', 'main/encoders', 'main/ingest'],
  // Places: GPS → the place a photo is in, offline; a stage beside the others.
  'main/places': ['main/util', 'main/contract', 'main/db'],
  // Text read in pictures (OCR): a stage beside faces.
  'main/text': ['main/util', 'main/contract', 'main/db', 'main/encoders', 'main/ingest'],
  'main/search': [
    'main/util', 'main/contract', 'main/db', 'main/index', 'main/models', 'main/encoders', 'main/ingest', 'main/embed', 'main/faces', 'main/places',
    'main/text',
  ],
  'main/collections': ['main/util', 'main/contract', 'main/db', 'main/ingest'],
  'main/engine': [
    'main/util', 'main/contract', 'main/onnx', 'main/index', 'main/db', 'main/models', 'main/encoders', 'main/ingest', 'main/embed',
    'main/faces', 'main/places', 'main/text', 'main/search', 'main/collections',
  ],
  // Transports: the contract and the engine's facade, nothing inside it.
  'main/bridge': ['main/util', 'main/contract', 'main/engine'],
  'main/host': ['main/util', 'main/contract', 'main/engine'],
  'main/cli': ['main/util', 'main/contract', 'main/engine', 'main/bridge'],
  // The evaluation measures the engine from outside: through its facade alone.
  eval: ['main/util', 'main/contract', 'main/engine'],
  // The shell relays: the host's client and the bridge's web rules, never the engine itself.
  electron: ['main/util', 'main/contract', 'main/host', 'main/bridge'],
  renderer: ['main/contract'],
};

/** The room a repository path belongs to, or null outside every room. */
export function roomOf(path) {
  const parts = path.split('/');
  if (parts[0] === 'main' && parts.length > 2) return `main/${parts[1]}`;
  if (parts[0] === 'main') return 'main';
  return parts.length > 1 ? parts[0] : null;
}

/** Why `from` may not import `to` (repository-relative paths), or null when it may. */
export function violation(from, to) {
  const a = roomOf(from);
  const b = roomOf(to);
  if (a === null || b === null || a === b || !(a in LAYERS)) return null;
  if (LAYERS[a].includes(b)) return null;
  return `${a} may not import ${b}: ${a} may import ${LAYERS[a].join(', ') || 'no other room'} (a lower room never imports a higher one; see docs/architecture.md)`;
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const rule = {
  meta: { type: 'problem', docs: { description: 'a room imports only the rooms below it' }, schema: [] },
  create(context) {
    const file = relative(root, context.filename).split(sep).join('/');
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = relative(root, resolve(dirname(context.filename), spec)).split(sep).join('/');
      const why = violation(file, target);
      if (why) context.report({ node: node.source, message: why });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { layers: rule } };
