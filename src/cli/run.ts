import { main } from './main.ts';

// Entry point of the `sparsegrad` binary. Sets the exit code rather than calling process.exit(), so output
// piped to another program is never cut off.

// A reader that goes away (`sparsegrad inspect f | head -1`, `| true`) is not an error: stop writing to that
// stream quietly and let the command finish its work (a save still completes). Without a listener, Node
// would turn EPIPE into an uncaught exception with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') return;
    throw error;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
