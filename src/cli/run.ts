import { main } from './main.ts';

// Entry point of the `sparsegrad` binary. Sets the exit code rather than calling process.exit(), so output
// piped to another program is never cut off.
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
