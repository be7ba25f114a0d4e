/**
 * Worker-thread entry (Node only; built to dist/worker.js): runs tiles of each job it receives until the
 * job's shared tile counter runs out, then reports back. Persistent: one job after another.
 */
import { parentPort } from 'node:worker_threads';
import { runTile } from './kernels/run-tile.js';
import type { JobMessage, WorkerReply } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('@nmkit/cpu-ref worker.js must be started as a worker thread');

port.on('message', (message: JobMessage) => {
  let reply: WorkerReply;
  try {
    const { id, job, counter, tiles } = message;
    let tilesRun = 0;
    // Dynamic scheduling: whichever thread is free takes the next tile, so a busy core does not stall the job.
    for (let tile = Atomics.add(counter, 0, 1); tile < tiles; tile = Atomics.add(counter, 0, 1)) {
      runTile(job, tile);
      tilesRun++;
    }
    reply = { type: 'done', id, tilesRun };
  } catch (error) {
    reply = { type: 'error', id: message?.id ?? -1, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});

port.postMessage({ type: 'ready' } satisfies WorkerReply);
