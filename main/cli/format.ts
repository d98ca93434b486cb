import type { IndexProgress, LibraryStatus } from '../contract/api.js';

export function duration(sec: number | null): string {
  if (sec === null || !Number.isFinite(sec)) return '–';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

const num = (n: number): string => n.toLocaleString('en-US');

export function progressLine(p: IndexProgress): string {
  return `indexed ${num(p.done)}/${num(p.total)} (${p.failed} unreadable) · ${p.ratePerSec.toFixed(1)}/s · ETA ${duration(p.etaSec)}`;
}

/** Each pack's part in the library, and where the models run — said once, here. */
function modelLines(s: LibraryStatus): string[] {
  const lines: string[] = [];
  if (s.models.length === 0) lines.push('Models: none installed — see `loupe models list`');
  else {
    lines.push('Models:');
    for (const m of s.models) {
      const what = m.kind === 'face' ? 'photos looked at' : 'pictures embedded';
      const serving = m.kind === 'face' ? '' : m.serving ? ` · search answers from ${m.serving}` : ' · not serving search';
      const failed = m.failures > 0 ? ` · ${num(m.failures)} failed (last: ${shown(m.lastFailure ?? '')})` : '';
      lines.push(`  ${m.name} (${m.kind}${m.active ? ', active' : ''}): ${num(m.embedded)}/${num(m.total)} ${what}${serving}${failed}`);
      if (m.state) lines.push(`      ${m.state}`);
    }
  }
  const d = s.device;
  const used = [...new Set(d.used.map((u) => u.provider))];
  const runs = used.length > 0 ? `models run on ${used.join(', ')}` : d.requested === 'auto' ? 'an accelerator where there is one, else the CPU (no model loaded yet)' : 'no model loaded yet';
  lines.push(`Device: ${d.requested} — ${runs}`);
  for (const n of d.notes) lines.push(`  ${shown(n)}`);
  return lines;
}

export function statusText(s: LibraryStatus): string {
  const lines: string[] = [];
  lines.push(`Library: ${shown(s.library)} (schema ${s.schemaVersion})${s.readOnly ? ' — read-only' : ''}`);
  if (s.readOnly) lines.push(`  ${shown(s.readOnly)}`);
  if (s.folders.length === 0) lines.push('No folders yet — add one with: loupe add-folder DIR');
  else {
    lines.push('Folders:');
    for (const f of s.folders) {
      lines.push(`  ${shown(f.path)}  [${f.state}]  ${num(f.photos)} photos, ${num(f.pending)} pending, ` +
        `${num(f.errors)} unreadable, ${num(f.missing)} missing`);
    }
  }
  const c = s.counts;
  lines.push(`Photos: ${num(c.ok)} indexed · ${num(c.pending)} pending · ${num(c.error)} unreadable · ${num(c.missing)} missing`);
  lines.push(`Thumbnails: ${num(s.thumbnails.files)} files, ${bytes(s.thumbnails.bytes)}`);
  if (s.lastJob) {
    const j = s.lastJob;
    lines.push(`Last job: ${j.kind} ${j.state} — ${num(j.done)}/${num(j.total)} processed, ${num(j.failed)} unreadable` +
      `${j.message ? ` (${j.message})` : ''}, ${new Date(j.updatedAt).toISOString()}`);
  }
  const d = s.database;
  lines.push(`Database: ${d.integrity === 'ok' ? 'whole' : d.integrity}${d.lastBackupAt ? ` · last copy ${new Date(d.lastBackupAt).toISOString()}` : ' · no copy yet'}`);
  if (d.advice) lines.push(`  ${d.advice}`);
  if (s.metadataProblems.length > 0) {
    lines.push(`Metadata not read (${num(s.metadataProblems.length)}):`);
    for (const m of s.metadataProblems) lines.push(`  ${shown(m.path)}\n      ${shown(m.problem)}`);
  }
  lines.push(...modelLines(s));
  lines.push('Formats:');
  for (const f of s.formats) lines.push(`  ${f.supported ? '✓' : '✗'} ${f.name} (${f.extensions.join(', ')}): ${f.how}`);
  if (s.errors.length > 0) {
    lines.push(`Could not read (${num(c.error)}):`);
    for (const e of s.errors) lines.push(`  ${shown(e.path)}\n      ${shown(e.error)}`);
  }
  return lines.join('\n');
}

/**
 * Characters a terminal acts on instead of showing: C0 controls, DEL, C1 controls, and the
 * bidirectional overrides that reorder what is shown. A file name may hold any of them.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ACTING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex -- as above, line breaks included
const ACTING_OR_BREAK = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A name (a path, an album) as one visible line: every control and line break shown as an escape. */
export function shown(name: string): string {
  return name.replace(ACTING_OR_BREAK, escapeChar);
}

/**
 * Output that cannot drive the terminal: whatever reaches it, controls are written as `\\uXXXX`
 * (also valid inside JSON strings, so --json output keeps its meaning); line breaks and tabs stay.
 */
export function terminalSafe<T extends { out: (s: string) => void; err: (s: string) => void }>(io: T): T {
  return { ...io, out: (s: string) => io.out(s.replace(ACTING, escapeChar)), err: (s: string) => io.err(s.replace(ACTING, escapeChar)) };
}
