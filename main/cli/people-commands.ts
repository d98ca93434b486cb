/**
 * `loupe people …`: the people the face stage found, and the user's word on them (name, merge,
 * split, hide, forget all). A person is named by id or by name.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { PersonInfo } from '../contract/api.js';
import type { Engine } from '../engine/engine.js';
import { shown } from './format.js';
import type { CommandKit } from './search-commands.js';

const ids = (v: string): number[] => v.split(',').map((x) => {
  const n = Number(x.trim());
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected ids, comma-separated');
  return n;
});

const line = (p: PersonInfo): string =>
  `#${String(p.id).padEnd(5)} ${(p.name ?? '(no name yet)').padEnd(24)} ${String(p.photos).padStart(5)} photo(s)  ${String(p.faces).padStart(5)} face(s)${p.hidden ? '  hidden' : ''}`;

export function addPeopleCommands(program: Command, kit: CommandKit): void {
  const { withE, print } = kit;
  const person = (e: Engine, ref: string): Promise<PersonInfo> => e.findPerson(ref);
  const people = program.command('people').description('people found in your photos: list, show, name, merge, split, hide, forget-all');
  people.command('list').description('people, most photos first').option('--all', 'hidden people too')
    .action((o: { all?: boolean }) => withE(async (e) => {
      const list = await e.listPeople({ includeHidden: o.all === true });
      print(list, list.length === 0 ? 'No people yet: a face pack finds them while indexing (loupe models import DIR, then loupe index).'
        : list.map(line).join('\n'));
    }));
  people.command('show <person>').description("a person's faces, and the photos they are in")
    .action((ref: string) => withE(async (e) => {
      const p = await person(e, ref);
      const faces = await e.personFaces(p.id);
      print({ person: p, faces }, [line(p), ...faces.map((f) => `  face #${f.id}  photo #${f.photoId}  ${shown(f.path)}  quality ${f.quality.toFixed(2)}${f.assignedBy === 'user' ? '  (yours)' : ''}`)].join('\n'));
    }));
  people.command('name <person> <name>').action((ref: string, name: string) => withE(async (e) => {
    const p = await e.namePerson((await person(e, ref)).id, name);
    print(p, `#${p.id} is ${p.name}.`);
  }));
  people.command('merge <person> <others...>').description('make them one person (the first keeps its name)')
    .action((ref: string, others: string[]) => withE(async (e) => {
      const into = await person(e, ref);
      const rest = await Promise.all(others.map((o) => person(e, o)));
      const p = await e.mergePeople(into.id, rest.map((r) => r.id));
      print(p, `Merged into #${p.id}${p.name ? ` ${p.name}` : ''}: ${p.photos} photo(s).`);
    }));
  people.command('split <faces>').description('take faces (ids, comma-separated) off into a new person')
    .action((list: string) => withE(async (e) => {
      const p = await e.splitFaces(ids(list));
      print(p, `The faces are #${p.id} now.`);
    }));
  people.command('not <face> <person>').description('"not this person": the face leaves them and is never suggested for them again')
    .action((face: string, ref: string) => withE(async (e) => {
      const p = await person(e, ref);
      await e.notThisPerson(ids(face)[0]!, p.id);
      print({ face: Number(face), person: p.id }, `Face #${face} is not ${p.name ?? `#${p.id}`}.`);
    }));
  people.command('hide <person>').option('--show', 'show them again').action((ref: string, o: { show?: boolean }) => withE(async (e) => {
    const p = await e.hidePerson((await person(e, ref)).id, o.show !== true);
    print(p, `${p.name ?? `#${p.id}`} is ${p.hidden ? 'hidden' : 'shown'}.`);
  }));
  people.command('forget-all').description('delete every face and person Loupe found (your photos are not touched)')
    .option('--yes', 'really')
    .action((o: { yes?: boolean }) => withE(async (e) => {
      if (!o.yes) throw new Error('this deletes every face and person Loupe found: run it again with --yes');
      const r = await e.forgetFaces();
      print(r, `Forgot ${r.faces} face(s) and every person.`);
    }));
}
