// A stand-in for a game's status endpoint: GET /opsstate answers 200 with the opsState the game
// wants (the content of run/opsstate, "None" until `ctl.sh set` writes one). Node only, no packages.
//   PORT (default 18080: the containerPort of the example's named port "status")
//   EXAMPLE_RUN_DIR (default: run/ next to this file)
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const port = Number(process.env.PORT ?? 18080);
const runDir = process.env.EXAMPLE_RUN_DIR ?? join(dirname(fileURLToPath(import.meta.url)), 'run');
const stateFile = join(runDir, 'opsstate');

const server = createServer(async (req, res) => {
  if (req.method !== 'GET' || req.url !== '/opsstate') {
    res.writeHead(404).end('not found\n');
    return;
  }
  const opsState = await readFile(stateFile, 'utf8').then((text) => text.trim(), () => 'None');
  res.writeHead(200, { 'content-type': 'text/plain' }).end(opsState);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`arena status server on http://127.0.0.1:${port}/opsstate (state file ${stateFile})`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
