/**
 * The same_marks table: photos the user confirmed show the same object or place. A photo is in at
 * most one group; marking photos from several groups together merges them. The CNN space's
 * adapted projection learns from these groups (embed/adaptation.ts).
 */
import { Repo } from './repo.js';

export interface MarkGroup {
  readonly id: number;
  readonly photoIds: readonly number[];
}

/** Rows ordered by group, gathered per group; groups of fewer than two members left out. */
function byGroup(rows: readonly { group_id: number; member: number }[]): Map<number, number[]> {
  const by = new Map<number, number[]>();
  for (const r of rows) {
    const members = by.get(r.group_id);
    if (members) members.push(r.member);
    else by.set(r.group_id, [r.member]);
  }
  for (const [g, members] of by) if (members.length < 2) by.delete(g);
  return by;
}

export class MarksRepo extends Repo {
  /** Marks the photos as one group (merging the groups any of them were in); returns it. */
  mark(photoIds: readonly number[], now: number): MarkGroup {
    return this.transaction(() => {
      const unique = [...new Set(photoIds)];
      const existing = unique.map((id) => this.groupOf(id)).filter((g): g is number => g !== null);
      const group = existing.length > 0 ? Math.min(...existing) : (this.one<{ g: number | null }>('SELECT max(group_id) AS g FROM same_marks')?.g ?? 0) + 1;
      for (const g of new Set(existing)) if (g !== group) this.run('UPDATE same_marks SET group_id = ? WHERE group_id = ?', group, g);
      for (const id of unique) {
        this.run(`INSERT INTO same_marks (photo_id, group_id, marked_at) VALUES (?, ?, ?)
          ON CONFLICT (photo_id) DO UPDATE SET group_id = excluded.group_id, marked_at = excluded.marked_at
          WHERE group_id <> excluded.group_id`, id, group, now);
      }
      return this.group(group);
    });
  }

  /** Takes the photos out of their groups; a group left with one photo goes. Returns the photos no longer in a group. */
  unmark(photoIds: readonly number[]): number {
    return this.transaction(() => {
      let removed = 0;
      for (const id of new Set(photoIds)) {
        const g = this.groupOf(id);
        if (g === null) continue;
        removed += this.run('DELETE FROM same_marks WHERE photo_id = ?', id).changes;
        if (this.group(g).photoIds.length < 2) removed += this.run('DELETE FROM same_marks WHERE group_id = ?', g).changes;
      }
      return removed;
    });
  }

  groupOf(photoId: number): number | null {
    return this.one<{ group_id: number }>('SELECT group_id FROM same_marks WHERE photo_id = ?', photoId)?.group_id ?? null;
  }

  group(id: number): MarkGroup {
    return { id, photoIds: this.all<{ photo_id: number }>('SELECT photo_id FROM same_marks WHERE group_id = ? ORDER BY photo_id', id).map((r) => r.photo_id) };
  }

  /** Every group of two or more photos. */
  groups(): MarkGroup[] {
    const rows = this.all<{ group_id: number; member: number }>('SELECT group_id, photo_id AS member FROM same_marks ORDER BY group_id, photo_id');
    return [...byGroup(rows)].map(([id, photoIds]) => ({ id, photoIds }));
  }

  /** Per group, the distinct pictures (content ids) of its photos that have a global vector in the space. */
  contentGroups(space: string): number[][] {
    const rows = this.all<{ group_id: number; member: number }>(`SELECT DISTINCT m.group_id, c.id AS member
      FROM same_marks m JOIN photos p ON p.id = m.photo_id JOIN contents c ON c.hash = p.hash
      WHERE EXISTS (SELECT 1 FROM vectors v WHERE v.content_id = c.id AND v.space = ? AND v.region = 0)
      ORDER BY m.group_id, c.id`, space);
    return [...byGroup(rows).values()];
  }

  /** Changes whenever a mark is added, moved or removed: what an adaptation records it saw. */
  state(): string {
    const r = this.one<{ n: number; s: number; at: number | null }>('SELECT count(*) AS n, total(group_id * 1000003 + photo_id) AS s, max(marked_at) AS at FROM same_marks');
    return `${r?.n ?? 0}:${r?.s ?? 0}:${r?.at ?? 0}`;
  }
}
