/**
 * A child process that keeps a library's vectors and index busy until it is killed: each round
 * stores a batch of vectors in SQLite, deletes some, syncs the index and flushes or maintains it.
 * Used by the crash tests: kill -9 lands in the middle of whichever write is under way.
 *   node --import tsx test/helpers/index-writer.ts <dbFile> <indexDir> <seed>
 */
import { openDatabase } from '../../main/db/database.js';
import { VectorStore } from '../../main/db/repos/vectors.js';
import { VectorIndex } from '../../main/index/vector-index.js';
import { Mixture } from './vectors.js';

export const WRITER_DIM = 32;
export const WRITER_SPACE = 'test';

const [dbFile, indexDir, seedText] = process.argv.slice(2) as [string, string, string];
const db = openDatabase(dbFile);
const store = new VectorStore(db);
const index = await VectorIndex.open(indexDir, { dim: WRITER_DIM, source: store.source(WRITER_SPACE), opq: 'off' });
const mixture = new Mixture({ d: WRITER_DIM, seed: 5, topics: 40, subtopicsPerTopic: 30, topicSpread: 0.7, pointSpread: 0.4 });
let round = Number(seedText) * 1000;
for (;;) {
  const x = mixture.sample(1500, round);
  db.transaction(() => {
    for (let i = 0; i < 1500; i++) store.put(WRITER_SPACE, `h${round}-${i}`, [{ region: 0, box: null, vector: x.subarray(i * WRITER_DIM, (i + 1) * WRITER_DIM) }]);
    for (let i = 0; i < 1500; i += 10) store.deleteContent(`h${round}-${i}`);
  })();
  index.sync();
  if ((await index.maintain()) === null) await index.flush();
  process.stdout.write(`round ${round} size ${index.size}\n`);
  round++;
}
