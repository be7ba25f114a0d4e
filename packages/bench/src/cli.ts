import { runCli } from './main.js';

// Exit explicitly: a live GPU device (dawn.node) would otherwise keep the process alive.
runCli(process.argv.slice(2)).then(
  ({ exitCode }) => process.exit(exitCode),
  (error: unknown) => {
    process.stderr.write(`nmkit-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
