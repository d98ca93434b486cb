import { main } from './loupe.js';

process.exitCode = await main(process.argv);
