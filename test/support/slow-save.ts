/**
 * A child process for the temp-file tests: starts an atomic save of 3 MiB to argv[2] whose second write
 * never finishes, prints "writing" once the temporary file exists, then waits to be interrupted. With
 * argv[3] = "exit" it calls process.exit(0) instead of waiting.
 */
import * as fsPromises from 'node:fs/promises';
import { saveFileAtomically, type SaveFileSystem } from '../../src/node/files.ts';

const [target, mode] = process.argv.slice(2) as [string, string | undefined];
let writes = 0;
const stallingFs: SaveFileSystem = {
  ...fsPromises,
  open: (async (path: string, flags: string, fileMode?: number) => {
    const handle = await fsPromises.open(path, flags, fileMode);
    return new Proxy(handle, {
      get(object, property) {
        if (property === 'write') {
          return async (...args: unknown[]) => {
            if (++writes === 1) return (object.write as (...a: unknown[]) => Promise<unknown>)(...args);
            process.stdout.write('writing\n');
            if (mode === 'exit') process.exit(0);
            return new Promise(() => undefined); // never settles: the save is stuck mid-file
          };
        }
        const value = Reflect.get(object, property) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(object) : value;
      },
    });
  }) as SaveFileSystem['open'],
};
setInterval(() => undefined, 1000); // stay alive until a signal arrives
await saveFileAtomically(target, new Uint8Array(3 * 1024 * 1024), stallingFs);
